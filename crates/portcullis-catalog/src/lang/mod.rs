//! Language ecosystems: one folder per ecosystem, one parser per file format.
pub mod python;
pub mod javascript;
pub mod java;
pub mod golang;
pub mod rust;
pub mod ruby;
pub mod php;
pub mod dotnet;
