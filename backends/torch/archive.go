package torch

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// checkArchive reads every file of a TorchScript archive (torch.jit.save writes a zip) and checks it
// against its CRC-32 before libtorch sees it. libtorch 1.13 checks no checksum, and some damaged
// archives send it into an endless loop (its unpickler, reading a damaged .debug_pkl to word an error)
// or a crash, on Redis' main thread when the model comes from RESTORE or an RDB file. A blob that is
// no zip at all is left to libtorch, whose error RedisAI's users know. An archive crafted with
// consistent checksums is still libtorch's to parse: only trusted users should store models. A
// client's archive (client set) has its code searched too, in the same reading (see checkCode); so a
// client's blob libtorch would load but whose code Go cannot read is refused (see unsearchable).
func checkArchive(blob []byte, client bool) error {
	archive, err := zip.NewReader(bytes.NewReader(blob), int64(len(blob)))
	if err != nil {
		if client {
			return unsearchable(blob)
		}
		return nil
	}
	var code [][]byte
	codeLeft := uint64(maxCode)
	for _, f := range archive.File {
		var kept bytes.Buffer
		keep := client && isCode(f.Name)
		dst := io.Discard
		if keep {
			// The reader fails a file that inflates past its stated size.
			if f.UncompressedSize64 > codeLeft {
				return errCodeTooLarge
			}
			codeLeft -= f.UncompressedSize64
			dst = &kept
		}
		if err := checkArchiveFile(f, dst); err != nil {
			return fmt.Errorf("TorchScript archive is damaged: %s: %v", f.Name, err)
		}
		if keep {
			code = append(code, kept.Bytes())
		}
	}
	for _, c := range code {
		if err := checkCode(c); err != nil {
			return err
		}
	}
	return nil
}

// checkArchiveFile reads one file to its end into dst, where the zip reader compares the CRC-32.
func checkArchiveFile(f *zip.File, dst io.Writer) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(dst, r)
	return err
}

// isCode reports whether an archive's file is TorchScript source, <archive>/code/*.py, its name compared
// in any letter case, as libtorch finds an archive's files (a code file named code/__torch__.PY was
// loaded, not searched). Extra files (<archive>/extra/...) are not compiled, whatever their folders'
// names: a training script kept as extra/source_code/train.py was refused.
func isCode(name string) bool {
	name = strings.ToLower(name)
	_, inArchive, _ := strings.Cut(name, "/")
	return strings.HasPrefix(inArchive, "code/") && strings.HasSuffix(name, ".py")
}

// refusedCall finds, in an archive's code, a call of an op the shim refuses in a client's code
// (torch_shim.cpp's refusedOp and trustsItsArguments), however it is spelled: torch.x, ops.aten.x, a
// storage's from_file, a tensor's method; the op is in the first group that matched. allowedCall are
// the ops those names match that the shim allows (see refusedOp).
var (
	refusedCall = regexp.MustCompile(`\b(from_file)\b|\b(?:torch|aten)\s*\.\s*(save)\b|\.\s*(\w*unsafe\w*|\w*sparse\w*|_index_put_impl_|_?indices|_values|crow_indices|c?col_indices|row_indices|_convert_indices_from_\w+)\s*\(|\.\s*(\w*_backward\w*|_fused_\w+|\w*fused_moving_avg_obs\w*|\w*batch_norm\w*|_cummax_helper|_cummin_helper|_reshape_alias|segment_reduce|_?ctc_loss|_sobol_engine_scramble_|_compute_linear_combination|_?linalg_eigvals|_scaled_dot_product_\w+|_reinterpret_tensor|_alloc_from_pool|data_ptr)\s*\(`)
	allowedCall = map[string]bool{"unsafe_chunk": true, "unsafe_split": true, "unsafe_split_with_sizes": true,
		"batch_norm": true, "_batch_norm_impl_index": true, "_fused_rms_norm": true, "_fused_sdp_choice": true,
		"_fused_dropout": true}
	// refusedWhy is what the ops of each group of refusedCall do, in refusedOp's words.
	refusedWhy = [...]string{1: "reaches files outside the model", 2: "reaches files outside the model",
		3: "writes memory outside its tensors", 4: "trusts its indices and sizes to stay within its tensors"}
)

// errUnreadableArchive refuses a client's blob that is a zip, or holds one, that Go's reader cannot read:
// its code could not be searched, and libtorch's reader (miniz), which finds an archive's directory
// from its end whatever comes before, may read it otherwise (an archive behind 8 bytes of junk, its
// directory's comment length past the blob's end, was loaded, and its __setstate__ wrote a file).
var errUnreadableArchive = errors.New("ERR TORCH model is a zip archive whose files cannot be read: it cannot be stored")

// errFlatbuffer refuses a client's module in the flatbuffer format (a mobile module, "PTMF" at byte
// 4), which torch::jit::load takes too: its code is not text to search, and its load runs its
// classes' __setstate__ (one that called from_file wrote a file, though the store was refused).
var errFlatbuffer = errors.New("ERR TORCH model is a flatbuffer module, whose code cannot be searched: it cannot be stored (save it with torch.jit.save)")

// errCodeTooLarge refuses a client's archive with more than maxCode bytes of code.
var errCodeTooLarge = fmt.Errorf("ERR TORCH model holds more than %d MiB of code: it cannot be stored", maxCode>>20)

// maxCode is the most TorchScript source, in all, a client's archive may hold: it is read into Redis'
// memory to be searched, and a 1.5 MB archive whose code file inflated to 1.5 GB had Redis killed in
// a memory cgroup of 2 GiB. A model's code is kilobytes.
const maxCode = 64 << 20

// unsearchable is why a client's blob that Go's zip reader cannot read is refused, or nil for one
// libtorch would not load either (its own error then says so, as RedisAI's did).
func unsearchable(blob []byte) error {
	if len(blob) >= 8 && string(blob[4:8]) == "PTMF" {
		return errFlatbuffer
	}
	if bytes.Contains(blob, []byte("PK\x05\x06")) || bytes.HasPrefix(blob, []byte("PK\x03\x04")) {
		return errUnreadableArchive
	}
	return nil
}

// checkCode refuses a client's TorchScript source that calls an op of refusedCall, before libtorch
// loads it: the shim checks the compiled graphs after the load, but the load itself runs a class's
// __setstate__ (a model's that called from_file wrote a file as it was loaded, in the trial program's
// child and in Redis).
func checkCode(code []byte) error {
	for _, m := range refusedCall.FindAllSubmatch(code, -1) {
		group := slices.IndexFunc(m[1:], func(g []byte) bool { return g != nil }) + 1
		op := string(m[group])
		if allowedCall[op] {
			continue
		}
		return fmt.Errorf("ERR TORCH model uses torch.%s, which %s: it cannot be stored", op, refusedWhy[group])
	}
	return nil
}
