"""The PoseTracker wire contract: query parameters, messages, error codes, plans and tokens."""
