//! PLACEHOLDER: operator-list requirements (`>= 1.0, < 2.0`) shared by the OS schemes.
