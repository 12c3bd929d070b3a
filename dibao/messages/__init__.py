"""Messages: the frozen dataclasses in and out of workflows, activities, updates and
queries. Above the pure domain (whose types they carry), below everything that sends them."""
