"""A typed Python client of contacthub's HTTP API, blocking (`ContactHub`) or asyncio
(`AsyncContactHub`). It speaks only HTTP: it imports nothing of the server.

```python
from contacthub.client import ContactHub

with ContactHub("http://127.0.0.1:8000") as hub:
    hub.login("101_1234567", "correct horse battery")
    result = hub.add_contacts(rows, on_duplicate="skip")
    for contact in hub.iter_contacts(search="acme"):
        ...
```

See docs/client.md.
"""

from contacthub.client._async_client import AsyncContactHub
from contacthub.client._client import ContactHub
from contacthub.client._exceptions import (
    APIError,
    AuthError,
    ContactHubError,
    Duplicate,
    DuplicateError,
    FieldError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from contacthub.client._models import (
    AddedContact,
    AddedUser,
    AddResult,
    Contact,
    NewUser,
    OnDuplicate,
)

__all__ = [
    "APIError",
    "AddResult",
    "AddedContact",
    "AddedUser",
    "AsyncContactHub",
    "AuthError",
    "Contact",
    "ContactHub",
    "ContactHubError",
    "Duplicate",
    "DuplicateError",
    "FieldError",
    "NewUser",
    "OnDuplicate",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "ValidationError",
]
