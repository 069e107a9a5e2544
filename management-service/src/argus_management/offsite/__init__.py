"""Off-site copies of evidence: an export's bundle, or the recordings a legal hold protects,
copied to the object store on request (``/api/v1/offsite``), audited."""
