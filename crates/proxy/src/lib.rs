//! mend-proxy (being built)
