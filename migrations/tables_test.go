package migrations_test

// allTables is what the newest schema holds, in name order.
var allTables = []string{"api_keys", "audit_events", "credentials", "key_usage", "web_sessions"}
