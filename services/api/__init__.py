"""What people and other systems call: the HTTP API and the dispatcher console."""
