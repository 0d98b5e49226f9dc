//! dotnet packages.
