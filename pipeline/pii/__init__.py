"""Personal-data detection (Presidio + Turkish recognizers), special categories, scan and anonymization."""
