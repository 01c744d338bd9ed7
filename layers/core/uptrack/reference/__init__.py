"""Reference movements (contract §5.2): a movement signature made from one clean repetition, stored per owner.

A signature is the rep's motion as per-frame features sampled at a fixed rate. The features are chosen so that
who filmed it and how does not matter:

* position: heights are measured from the hip midpoint, spreads as left-right differences;
* scale: lengths are divided by the torso length (a rolling high percentile, so zooms and walking closer are
  followed, while a forward lean that foreshortens the torso within a rep is not);
* mirror: left and right are merged (confidence-weighted angle means, midpoints, absolute spreads), so a rep
  filmed from the other side or a mirrored selfie gives the same features;
* camera yaw: vertical distances and joint angles dominate, and vertical distances survive a change from a side
  to a front view.

Modules: `features` (the per-frame features), `signature` (a reference made from one rep), `match` (finding and
scoring reps against it), `session` (the messages of a reference-mode upload), `store` (the `ReferenceStore`
protocol; the file-system and S3 stores are adapters of the service). This package's `__init__` imports nothing,
so the light `store` module loads without numpy. A reference owned by another token reads as not found, exactly
like an unknown id, so ids cannot be probed.
"""
