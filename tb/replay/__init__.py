"""`make replay`: translation vectors (page tables captured from real systems) in, results out."""
