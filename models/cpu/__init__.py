"""The CPU side of a process: page tables, VMAs, ASIDs, and the CPU's own configuration."""
