"""Device models on the SMMU's translation port (transaction level, backend-agnostic)."""
