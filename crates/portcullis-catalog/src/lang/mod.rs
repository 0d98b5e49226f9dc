//! Language ecosystems: one folder per ecosystem, one parser per file format.
pub mod dotnet;
pub mod golang;
pub mod java;
pub mod javascript;
pub mod php;
pub mod python;
pub mod ruby;
pub mod rust;
