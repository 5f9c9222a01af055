//! The export engine: file formats (xlsx, csv) written as streams.
