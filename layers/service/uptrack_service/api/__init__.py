"""The HTTP and WebSocket API's logic: uploads, references, subscriptions, API Gateway events."""
