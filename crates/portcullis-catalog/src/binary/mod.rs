//! Software inside binaries: build metadata and classifiers.
pub mod classifiers;

use object::FileKind;
use object::read::macho::{FatArch, MachOFatFile32, MachOFatFile64};

/// The single executable images of a file: itself, or each architecture of a
/// universal (fat) Mach-O; nothing for other files.
pub fn executable_images(binary: &[u8]) -> Vec<&[u8]> {
    let arches = match FileKind::parse(binary) {
        Ok(
            FileKind::Elf32 | FileKind::Elf64 | FileKind::Pe32 | FileKind::Pe64 | FileKind::MachO32 | FileKind::MachO64,
        ) => {
            return vec![binary];
        }
        Ok(FileKind::MachOFat32) => {
            MachOFatFile32::parse(binary).map(|fat| fat.arches().iter().filter_map(|a| a.data(binary).ok()).collect())
        }
        Ok(FileKind::MachOFat64) => {
            MachOFatFile64::parse(binary).map(|fat| fat.arches().iter().filter_map(|a| a.data(binary).ok()).collect())
        }
        _ => return Vec::new(),
    };
    arches.unwrap_or_default()
}
