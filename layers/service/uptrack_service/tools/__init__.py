"""Developer tools that never ship to Lambda: bench, accuracy, pose accuracy, the cost model, the rep plot."""
