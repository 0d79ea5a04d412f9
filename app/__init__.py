"""The Streamlit app for analysts (read-only)."""
