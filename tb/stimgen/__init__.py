"""Constrained-random stimulus for the translation pipeline (pure Python, no cocotb).

``World`` builds a legal-but-nasty SMMU configuration in a PhysicalMemory window from a
``random.Random``; ``World.random_request`` aims translation-port requests at it and
``World.mutate`` changes it, returning the invalidation commands that make the change visible.
``directed`` holds small deterministic builders for hand-written tests. Nothing here predicts
results: the scoreboard compares the RTL with the reference model.
"""

from tb.stimgen.directed import DirectedSetup, single_stream
from tb.stimgen.mutations import MUTATION_KINDS, MemWrite, Mutation, MutationWeights
from tb.stimgen.requests import CATEGORIES, Req, RequestWeights
from tb.stimgen.world import Route, World, WorldKnobs

__all__ = [
    "CATEGORIES", "DirectedSetup", "MUTATION_KINDS", "MemWrite", "Mutation", "MutationWeights",
    "Req", "RequestWeights", "Route", "World", "WorldKnobs", "single_stream",
]
