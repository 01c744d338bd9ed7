"""uptrack's service layer: adapters (S3, DynamoDB, EventBridge, WebSocket), handlers' logic, CLI, local stack."""
