// Package torchtest writes TorchScript archives again for tests: a file changed inside an archive whose
// CRC-32s are made again passes gorai's archive check and reaches libtorch.
package torchtest

import (
	"archive/zip"
	"bytes"
	"io"
)

// RewriteArchive writes a zip archive again, each file with its compression method and its contents
// passed through change, which is given the file's index, the number of files and the file's name.
func RewriteArchive(blob []byte, change func(i, n int, name string, data []byte) []byte) ([]byte, error) {
	r, err := zip.NewReader(bytes.NewReader(blob), int64(len(blob)))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	w := zip.NewWriter(&out)
	for i, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		fw, err := w.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method})
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(change(i, len(r.File), f.Name, data)); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
