//! Tar members written with hand-made ustar headers, so that hostile names
//! (which the `tar` crate refuses to write) can be produced.

/// One tar member.
pub enum Member<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    /// A file header that declares `size` bytes but carries none.
    Declared(&'a str, u64),
}

fn header(name: &str, size: u64, kind: u8, link: &str, mode: u32) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |field: &mut [u8], value: u64| {
        let text = format!("{:0width$o}\0", value, width = field.len() - 1);
        field.copy_from_slice(text.as_bytes());
    };
    octal(&mut h[100..108], mode as u64);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    if size >= 8u64.pow(11) {
        // GNU base-256 size encoding for huge declared sizes.
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    } else {
        octal(&mut h[124..136], size);
    }
    octal(&mut h[136..148], 0);
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// The members as a tar stream, with the end-of-archive marker.
pub fn tar(members: &[Member]) -> Vec<u8> {
    let mut out = Vec::new();
    for member in members {
        match member {
            Member::File(name, data) => {
                out.extend_from_slice(&header(name, data.len() as u64, b'0', "", 0o644));
                out.extend_from_slice(data);
                out.resize(out.len().div_ceil(512) * 512, 0);
            }
            Member::Dir(name) => out.extend_from_slice(&header(name, 0, b'5', "", 0o755)),
            Member::Symlink(name, target) => out.extend_from_slice(&header(name, 0, b'2', target, 0o777)),
            Member::Hardlink(name, target) => out.extend_from_slice(&header(name, 0, b'1', target, 0o644)),
            Member::Declared(name, size) => out.extend_from_slice(&header(name, *size, b'0', "", 0o644)),
        }
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}
