"""Arm IOMMU drivers (Linux drivers/iommu/arm/): the SMMUv3 driver in :mod:`.arm_smmu_v3`."""
