//! mend-sandbox (being built)
