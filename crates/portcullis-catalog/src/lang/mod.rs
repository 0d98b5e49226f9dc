//! Language ecosystems: one folder per ecosystem, one parser per file format.
