"""Make decoded events safe to store: `sanitizer` masks secrets (`redact`, `secret_rules`, `secret_words`,
`encoded`) and flags hostile text (`hostile`) and injection text (`injection`) in every source column."""
