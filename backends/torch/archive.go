package torch

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
)

// checkArchive reads every file of a TorchScript archive (torch.jit.save writes a zip) and checks it
// against its CRC-32 before libtorch sees it. libtorch 1.13 checks no checksum, and some damaged
// archives send it into an endless loop (its unpickler, reading a damaged .debug_pkl to word an error)
// or a crash, on Redis' main thread when the model comes from RESTORE or an RDB file. A blob that is
// no zip at all is left to libtorch, whose error RedisAI's users know. An archive crafted with
// consistent checksums is still libtorch's to parse: only trusted users should store models.
func checkArchive(blob []byte) error {
	archive, err := zip.NewReader(bytes.NewReader(blob), int64(len(blob)))
	if err != nil {
		return nil
	}
	for _, f := range archive.File {
		if err := checkArchiveFile(f); err != nil {
			return fmt.Errorf("TorchScript archive is damaged: %s: %v", f.Name, err)
		}
	}
	return nil
}

// checkArchiveFile reads one file to its end, where the zip reader compares the CRC-32.
func checkArchiveFile(f *zip.File) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, r)
	return err
}
