"""The SMMUv3 driver (Linux drivers/iommu/arm/arm-smmu-v3/): probe, bring-up, queues, tables,
domains and SVA."""
