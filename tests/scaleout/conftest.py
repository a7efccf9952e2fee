"""Several peercall processes sharing their calls through one real Redis: the
`redis_server`, `cluster` and `balancer` fixtures are in tests/conftest.py."""
