import pytest


@pytest.fixture
def admin_client(client, admin_national):
    """The national administrator's test client."""
    client.force_login(admin_national)
    return client
