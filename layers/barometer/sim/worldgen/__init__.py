"""The generation phases `world.build_world` runs, in order, over one `draft.Draft`.

Each phase draws from the two seeded streams in a fixed order; reordering phases, or draws
within one, changes the world (and the demo's pinned figures).
"""
