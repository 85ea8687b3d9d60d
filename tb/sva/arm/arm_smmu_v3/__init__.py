"""The SMMUv3 driver (Linux drivers/iommu/arm/arm-smmu-v3/): probe, bring-up, queues, tables,
domains and SVA.

Linux keeps the driver in two C files around one header; here arm-smmu-v3.c is split by
topic, and each module names the part it mirrors (tb/sva/__init__.py has the map):
arm_smmu_v3.py (arm_smmu_ops, arm_smmu_device_probe) on top, driver.py (struct
arm_smmu_device) under it, arm_smmu_v3_sva.py for arm-smmu-v3-sva.c.
"""
