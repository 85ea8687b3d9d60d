"""The SMMUv3 driver: probe, bring-up, and (as the project grows) queues and tables."""
