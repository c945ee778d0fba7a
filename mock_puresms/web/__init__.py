"""What every HTTP surface shares: problem answers, body reading, JSON responses,
routing, paging, request ids and the JSON shapes of domain objects."""
