use super::ast::FpmFile;

pub fn parse(_src: &[u8]) -> FpmFile {
    FpmFile::default()
}
