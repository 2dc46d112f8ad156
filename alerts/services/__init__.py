"""The alerts' writes: events (the outbox every change fills), webhook subscriptions and their
deliveries, e-mail subscriptions. Services take keyword-only arguments, like jurisdictions.services."""
