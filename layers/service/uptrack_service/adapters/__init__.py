"""Adapters from the core's ports to AWS services (boto3 lives only here)."""
