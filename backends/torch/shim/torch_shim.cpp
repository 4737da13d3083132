// torch_shim: gorai's libtorch shim (see ../torch_shim.h for the API and its rules). Built by
// build/build-torch-shim.sh into build/backends/torch/libgorai_torch.so, which links libtorch; gorai.so
// itself never does, and opens this library with dlopen the first time a TORCH model or script needs it.
// Models are TorchScript modules; scripts are compilation units of TorchScript source, which may call the
// Redis extension (redis::execute, redis::asList, redisAI::model_execute) served by the module's callbacks.

#include "../torch_shim.h"

extern "C" {
#include "memory.h" // gorai_memory_fits (tensor/memory.c, linked in)
}

#include <ATen/Parallel.h>
#include <c10/core/CPUAllocator.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

// CheckedCPUAllocator is libtorch's CPU allocator with a size check in front. Redis' allocator (jemalloc,
// which serves every malloc in redis-server) maps a large block without reserving memory, so a tensor
// larger than the machine can hold is handed out, and the kernel kills Redis as libtorch fills it (a
// script's torch.zeros([100000, 100000, 1000]) did): a block of 64 MiB or more that is more than the
// memory left (gorai_memory_fits) is refused with libtorch's out-of-memory error instead.
struct CheckedCPUAllocator final : c10::Allocator {
    c10::Allocator *base = c10::GetDefaultCPUAllocator();
    c10::DataPtr allocate(size_t n) override {
        TORCH_CHECK_WITH(OutOfMemoryError, gorai_memory_fits(n), "libtorch asked for ", n, " bytes, refused with ",
                         gorai_memory_left(), " bytes of memory left");
        return base->allocate(n);
    }
    c10::DeleterFnPtr raw_deleter() const override { return base->raw_deleter(); }
    void copy_data(void *dest, const void *src, std::size_t count) const override { base->copy_data(dest, src, count); }
};

// Installed when the shim is loaded, before any tensor is made; priority 1 outranks the default's.
CheckedCPUAllocator checkedCPUAllocator;
const bool checkedCPUAllocatorSet = (c10::SetCPUAllocator(&checkedCPUAllocator, 1), true);

struct Model {
    torch::jit::Module module;
    torch::Device device;
    // Optimizing graph executors profile the first runs and compile again after them (tens of ms for
    // the first two runs, then the same speed as unoptimized on the CPU, measured with libtorch 1.13).
    // CPU models run unoptimized, with their plan built at load, so the first real run is not special.
    // GPU models keep the optimizer (it fuses kernels there).
    bool optimize;
    std::vector<std::string> inputs;
    int noutputs;  // -1: unknown
    bool writes;   // see writesTensors
};

// withoutTraceback keeps, of an error that the TorchScript interpreter raised, the error itself ("RuntimeError:
// mat1 and mat2 shapes cannot be multiplied (2x4 and 3x2)"): the interpreter puts the model's TorchScript
// and Python tracebacks before it (kilobytes, with paths from the machine the model was made on).
std::string withoutTraceback(const std::string &s) {
    static const char kHead[] = "The following operation failed in the TorchScript interpreter.";
    if (s.compare(0, sizeof kHead - 1, kHead) != 0) return s;
    size_t tb = s.rfind("Traceback of TorchScript");
    if (tb == std::string::npos) return s;
    // The error is the first line after the last traceback that reads "<Class>Error: " or "<Class>Exception: ",
    // where traceback lines are indented code or "path(line): function".
    for (size_t pos = s.find('\n', tb); pos != std::string::npos; pos = s.find('\n', pos + 1)) {
        size_t start = pos + 1, colon = s.find(": ", start), eol = s.find('\n', start);
        if (colon == std::string::npos || (eol != std::string::npos && colon > eol)) continue;
        std::string cls = s.substr(start, colon - start);
        bool name = !cls.empty();
        for (char c : cls) name = name && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.');
        auto endsWith = [&](const char *suf) {
            size_t n = std::strlen(suf);
            return cls.size() >= n && cls.compare(cls.size() - n, n, suf) == 0;
        };
        if (name && (endsWith("Error") || endsWith("Exception"))) return s.substr(start);
    }
    return s;
}

// message is what a failure replies: one line, without libtorch's C++ backtrace or the interpreter's
// TorchScript traceback. (RedisAI 1.2.7 replies e.what() whole, flattened.)
std::string message(const std::exception &e) {
    std::string s;
    if (auto c10e = dynamic_cast<const c10::Error *>(&e)) {
        s = c10e->what_without_backtrace();
    } else {
        s = e.what();
    }
    s = withoutTraceback(s);
    // One line, as RedisAI makes it: line ends become spaces (a final one included, which clients'
    // tests compare).
    for (char &c : s) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return s;
}

char *dup(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p != nullptr) std::memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

void fail(char **err, const std::string &s) {
    if (err != nullptr) *err = dup(s);
}

// scalarType maps a gorai dtype to torch's, with RedisAI's texts for those torch lacks (UINT16, STRING).
// BOOL, which RedisAI 1.2.7 refused ("Unsupported code 6"), maps to torch.bool.
at::ScalarType scalarType(uint8_t code, uint8_t bits) {
    switch (code) {
    case GORAI_TORCH_UINT:
        if (bits == 8) return at::kByte;
        throw std::runtime_error("Unsupported kUInt bits " + std::to_string(bits));
    case GORAI_TORCH_INT:
        switch (bits) {
        case 8: return at::kChar;
        case 16: return at::kShort;
        case 32: return at::kInt;
        case 64: return at::kLong;
        }
        throw std::runtime_error("Unsupported kInt bits " + std::to_string(bits));
    case GORAI_TORCH_FLOAT:
        switch (bits) {
        case 32: return at::kFloat;
        case 64: return at::kDouble;
        }
        throw std::runtime_error("Unsupported kFloat bits " + std::to_string(bits));
    case GORAI_TORCH_BOOL:
        if (bits == 8) return at::kBool;
        break;
    }
    throw std::runtime_error("Unsupported code " + std::to_string(code));
}

// dtype is the gorai dtype of an output; types gorai tensors cannot hold are refused.
void dtype(at::ScalarType t, uint8_t &code, uint8_t &bits) {
    switch (t) {
    case at::kFloat: code = GORAI_TORCH_FLOAT, bits = 32; return;
    case at::kDouble: code = GORAI_TORCH_FLOAT, bits = 64; return;
    case at::kChar: code = GORAI_TORCH_INT, bits = 8; return;
    case at::kShort: code = GORAI_TORCH_INT, bits = 16; return;
    case at::kInt: code = GORAI_TORCH_INT, bits = 32; return;
    case at::kLong: code = GORAI_TORCH_INT, bits = 64; return;
    case at::kByte: code = GORAI_TORCH_UINT, bits = 8; return;
    case at::kBool: code = GORAI_TORCH_BOOL, bits = 8; return;
    default: break;
    }
    throw std::runtime_error(std::string(c10::toString(t)) + " is not supported by dlpack");
}

// tensorCount is how many tensors a return of this type gives, as RedisAI counts them; -1 if unknown.
int tensorCount(const c10::Argument &ret) {
    const c10::TypePtr &t = ret.type();
    switch (t->kind()) {
    case c10::TypeKind::TensorType:
        return 1;
    case c10::TypeKind::TupleType: {
        int n = 0;
        for (const auto &m : t->containedTypes()) {
            if (m->kind() == c10::TypeKind::TensorType) n++;
        }
        return n;
    }
    case c10::TypeKind::ListType:
        return ret.N() ? static_cast<int>(*ret.N()) : -1;
    default:
        return 0;
    }
}

const char kForward[] = "forward";

// flatten lists a function's result as RedisAI does: a Tensor, or the Tensors of a Tuple or List; anything else
// is "Function returned non-tensor values<fn>" (sic). A model's None is no tensor (noneIsEmpty); a script's is
// a non-tensor value, as in RedisAI.
void flatten(const c10::IValue &v, const std::string &fn, bool noneIsEmpty, std::vector<at::Tensor> &out) {
    auto nonTensor = [&]() { return std::runtime_error("Function returned non-tensor values" + fn); };
    if (v.isTensor()) {
        out.push_back(v.toTensor());
    } else if (v.isTensorList()) {
        for (const at::Tensor &t : v.toTensorVector()) out.push_back(t);
    } else if (v.isTuple()) {
        for (const auto &e : v.toTupleRef().elements()) {
            if (!e.isTensor()) throw nonTensor();
            out.push_back(e.toTensor());
        }
    } else if (v.isList()) {
        for (const c10::IValue &e : v.toListRef()) {
            if (!e.isTensor()) throw nonTensor();
            out.push_back(e.toTensor());
        }
    } else if (!(noneIsEmpty && v.isNone())) {
        throw nonTensor();
    }
}

// wrapInput is a caller's tensor as torch sees it: its memory, without a copy, on device; a copy when the
// code writes into its inputs (see writesTensors).
at::Tensor wrapInput(const gorai_torch_tensor &in, const torch::Device &device, bool writes) {
    at::Tensor t = torch::from_blob(in.data, at::IntArrayRef(in.shape, in.ndim),
                                    torch::TensorOptions().dtype(scalarType(in.code, in.bits)));
    if (!device.is_cpu()) return t.to(device);
    return writes ? t.clone() : t;
}

// copyOutputs checks the count of a run's outputs and copies each, contiguous on the CPU, into memory from alloc.
void copyOutputs(const std::vector<at::Tensor> &outs, int noutputs, const std::string &fn,
                 gorai_torch_alloc_fn alloc, void *ctx) {
    if (static_cast<int>(outs.size()) != noutputs) {
        throw std::runtime_error("Function returned unexpected number of outputs - " + fn);
    }
    for (int i = 0; i < noutputs; i++) {
        at::Tensor t = outs[i].to(torch::kCPU).contiguous();
        uint8_t code, bits;
        dtype(t.scalar_type(), code, bits);
        size_t nbytes = t.numel() * t.element_size();
        void *dst = alloc(ctx, i, code, bits, static_cast<int>(t.dim()), t.sizes().data(), nbytes);
        if (dst == nullptr) throw std::runtime_error("could not allocate output");
        if (nbytes > 0) std::memcpy(dst, t.data_ptr(), nbytes);
    }
}

// ---- Scripts ----

// The Redis extension's callbacks, set by the module (gorai_torch_set_callbacks).
std::atomic<gorai_torch_execute_fn> executeFn{nullptr};
std::atomic<gorai_torch_model_execute_fn> modelExecuteFn{nullptr};
std::atomic<gorai_torch_release_fn> releaseFn{nullptr};

// takeCString returns a malloc'd string from a callback and frees it.
std::string takeCString(char *s, const char *fallback) {
    if (s == nullptr) return fallback;
    std::string r(s);
    std::free(s);
    return r;
}

void freeReply(gorai_torch_reply &r) {
    std::free(r.str);
    r.str = nullptr;
    if (r.elements != nullptr) {
        for (size_t i = 0; i < r.n; i++) freeReply(r.elements[i]);
        std::free(r.elements);
        r.elements = nullptr;
    }
}

c10::IValue replyValue(const gorai_torch_reply &r) {
    switch (r.type) {
    case GORAI_TORCH_REPLY_NIL:
        return c10::IValue();
    case GORAI_TORCH_REPLY_STRING:
        return c10::IValue(std::string(r.str != nullptr ? r.str : "", r.str != nullptr ? r.len : 0));
    case GORAI_TORCH_REPLY_INT:
        // RedisAI 1.2.7 truncates to a C int; TorchScript ints are 64-bit and so is this.
        return c10::IValue(static_cast<int64_t>(r.integer));
    case GORAI_TORCH_REPLY_ARRAY: {
        c10::impl::GenericList list(c10::AnyType::get());
        list.reserve(r.n);
        for (size_t i = 0; i < r.n; i++) list.push_back(replyValue(r.elements[i]));
        return c10::IValue(list);
    }
    }
    throw std::runtime_error("Unexpected internal error");
}

// redis::execute(str cmd, str[] args) -> Any
c10::IValue redisExecute(const std::string &cmd, const std::vector<std::string> &args) {
    gorai_torch_execute_fn execute = executeFn.load();
    if (execute == nullptr) throw std::runtime_error("redis.execute is not available");
    std::vector<const char *> argv;
    std::vector<size_t> argvlen;
    argv.reserve(args.size());
    argvlen.reserve(args.size());
    for (const std::string &a : args) {
        argv.push_back(a.data());
        argvlen.push_back(a.size());
    }
    gorai_torch_reply reply;
    std::memset(&reply, 0, sizeof reply);
    char *err = nullptr;
    int rc = execute(cmd.data(), cmd.size(), argv.data(), argvlen.data(), static_cast<int>(args.size()), &reply, &err);
    struct Free {
        gorai_torch_reply &r;
        ~Free() { freeReply(r); }
    } freeLater{reply};
    if (rc != 0) {
        throw std::runtime_error("Redis command returned an error: " + takeCString(err, "unknown error"));
    }
    std::free(err);
    return replyValue(reply);
}

// redis::asList(Any x) -> Any[]
c10::impl::GenericList redisAsList(const c10::IValue &v) {
    if (!v.isList()) throw std::runtime_error(std::string("redis.asList: expected a list but got ") + v.tagKind());
    return v.toList();
}

// redisAI::model_execute(str model_key, Tensor[] inputs, int num_outputs) -> Tensor[]
std::vector<at::Tensor> redisAIModelExecute(const std::string &key, const std::vector<at::Tensor> &inputs,
                                            int64_t num_outputs) {
    gorai_torch_model_execute_fn modelExecute = modelExecuteFn.load();
    gorai_torch_release_fn release = releaseFn.load();
    if (modelExecute == nullptr || release == nullptr) {
        throw std::runtime_error("redisAI.model_execute is not available");
    }
    if (num_outputs < 0 || num_outputs > (1 << 20)) throw std::runtime_error("redisAI.model_execute: bad num_outputs");
    // The inputs, contiguous on the CPU, described for the callback; kept alive until it returns.
    std::vector<at::Tensor> held;
    std::vector<gorai_torch_tensor> in(inputs.size());
    held.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); i++) {
        held.push_back(inputs[i].to(torch::kCPU).contiguous());
        const at::Tensor &t = held.back();
        dtype(t.scalar_type(), in[i].code, in[i].bits);
        in[i].data = t.data_ptr();
        in[i].shape = t.sizes().data();
        in[i].ndim = static_cast<int32_t>(t.dim());
    }
    int n = static_cast<int>(num_outputs);
    std::vector<gorai_torch_tensor> out(n);
    std::vector<void *> owners(n, nullptr);
    std::memset(out.data(), 0, n * sizeof(gorai_torch_tensor));
    char *err = nullptr;
    if (modelExecute(key.data(), key.size(), in.data(), static_cast<int>(in.size()), n, out.data(), owners.data(),
                     &err) != 0) {
        throw std::runtime_error(takeCString(err, "redisAI.model_execute failed"));
    }
    std::free(err);
    std::vector<at::Tensor> result;
    result.reserve(n);
    int i = 0;
    try {
        for (; i < n; i++) {
            void *owner = owners[i];
            at::ScalarType st = scalarType(out[i].code, out[i].bits);
            result.push_back(torch::from_blob(out[i].data, at::IntArrayRef(out[i].shape, out[i].ndim),
                                              [release, owner](void *) { release(owner); },
                                              torch::TensorOptions().dtype(st)));
        }
    } catch (...) {
        // Those wrapped already are released by their tensors; the rest here.
        for (; i < n; i++) release(owners[i]);
        throw;
    }
    return result;
}

c10::IValue redisExecuteNoArgs(const std::string &cmd) { return redisExecute(cmd, {}); }

// checkedAttention is scaled_dot_product_attention that first checks that keys and values are as many: the
// CPU kernel it picks for equal batches and heads takes the keys' count for the values' and reads past
// them (a hunt of 2026-12-06: heap memory in the output, through a script or a model given its keys and
// values by a client), where the plain computation refuses the matrix product. Models call it (attention
// layers), so it is checked at each call instead of refused (checkAttention).
at::Tensor checkedAttention(const at::Tensor &query, const at::Tensor &key, const at::Tensor &value,
                            const c10::optional<at::Tensor> &mask, double dropout, bool causal,
                            c10::optional<double> scale, bool gqa) {
    if (key.dim() >= 2 && value.dim() >= 2 && key.size(-2) != value.size(-2)) {
        throw std::runtime_error("scaled_dot_product_attention: the keys' length, " + std::to_string(key.size(-2)) +
                                 ", is not the values', " + std::to_string(value.size(-2)));
    }
    return at::scaled_dot_product_attention(query, key, value, mask, dropout, causal, scale, gqa);
}

const c10::Symbol kAttention = c10::Symbol::fromQualString("aten::scaled_dot_product_attention");
const c10::Symbol kCheckedAttention = c10::Symbol::fromQualString("gorai::scaled_dot_product_attention");

// registerRedisOps registers the operators, once, before the first script compiles or model loads (not when
// the shim is loaded: a failure there would abort the process inside dlopen): a model's code may call them
// too, and one stored after a script loaded where one stored first did not, nor would Redis' RDB file. The
// registration lives as long as the process.
void registerRedisOps() {
    static std::once_flag once;
    std::call_once(once, [] {
        new torch::RegisterOperators(
            torch::RegisterOperators()
                .op("redis::execute(str cmd, str[] args) -> Any", &redisExecute)
                .op("redis::execute.cmd(str cmd) -> Any", &redisExecuteNoArgs)
                .op("redis::asList(Any x) -> Any[]", &redisAsList)
                .op("redisAI::model_execute(str model_key, Tensor[] inputs, int num_outputs) -> Tensor[]",
                    &redisAIModelExecute)
                .op("gorai::scaled_dot_product_attention(Tensor query, Tensor key, Tensor value, Tensor? "
                    "attn_mask=None, float dropout_p=0.0, bool is_causal=False, *, float? scale=None, "
                    "bool enable_gqa=False) -> Tensor",
                    &checkedAttention));
    });
}

// RedisResolver resolves what RedisAI's does: torch to ATen, redis and redisAI to the extension's operators.
struct RedisResolver : public torch::jit::Resolver {
    std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string &name, torch::jit::GraphFunction &m,
                                                           const torch::jit::SourceRange &loc) override {
        if (name == "torch") return std::make_shared<torch::jit::BuiltinModule>("aten");
        if (name == "redis") return std::make_shared<torch::jit::BuiltinModule>("redis");
        if (name == "redisAI") return std::make_shared<torch::jit::BuiltinModule>("redisAI");
        return nullptr;
    }
    c10::TypePtr resolveType(const std::string &name, const torch::jit::SourceRange &loc) override {
        return nullptr;
    }
};

// dedent removes the leading whitespace common to all non-blank lines, as Python's textwrap.dedent does; blank
// lines become empty.
std::string dedent(const std::string &src) {
    std::vector<std::string> lines;
    for (size_t start = 0;;) {
        size_t nl = src.find('\n', start);
        lines.push_back(src.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
        if (nl == std::string::npos) break;
        start = nl + 1;
    }
    auto blank = [](const std::string &l) {
        return l.find_first_not_of(" \t\r\f\v") == std::string::npos;
    };
    bool first = true;
    std::string prefix;
    for (const std::string &l : lines) {
        if (blank(l)) continue;
        std::string indent = l.substr(0, l.find_first_not_of(" \t"));
        if (first) {
            prefix = indent, first = false;
        } else {
            size_t k = 0;
            while (k < prefix.size() && k < indent.size() && prefix[k] == indent[k]) k++;
            prefix.resize(k);
        }
    }
    if (prefix.empty()) return src;
    std::string out;
    out.reserve(src.size());
    for (size_t i = 0; i < lines.size(); i++) {
        if (i > 0) out += '\n';
        if (!blank(lines[i])) out += lines[i].substr(prefix.size());
    }
    return out;
}

bool isListOf(const c10::TypePtr &t, c10::TypeKind element) {
    if (t->kind() != c10::TypeKind::ListType) return false;
    return t->expectRef<c10::ListType>().getElementType()->kind() == element;
}

struct Script {
    std::shared_ptr<torch::jit::CompilationUnit> cu;
    torch::Device device;
    bool optimize;  // as Model::optimize
    std::unordered_set<std::string> entryPoints;
    bool writes;  // see writesTensors
};

torch::jit::Function *findFunction(const Script &s, const std::string &name) {
    for (torch::jit::Function *f : s.cu->get_functions()) {
        if (f->name() == name) return f;
    }
    return nullptr;
}

// trustsItsArguments reports whether op is a kernel that checks none of its indices, sizes or strides, since
// autograd, an optimizer or a checked public op gives them, not a client: a client's values made these read
// or write outside their tensors, and Redis died (SIGSEGV; a hunt of 2026-12-06). Backward kernels (the
// pools' with their indices, embedding's, CTC's, segment_reduce's), the fused optimizer steps, the batch
// norms below batch_norm (which checks the running statistics' sizes), the fake quantization observers,
// internal helpers, MKL's eigenvalues of a NaN matrix, and the views at any offset of inductor's namespace
// and mkldnn's raw address (a model's code may call any namespace; a script's only aten).
bool trustsItsArguments(const std::string &op) {
    static const std::unordered_set<std::string> helpers = {
        "aten::_cummax_helper", "aten::_cummin_helper", "aten::_reshape_alias",   "aten::segment_reduce",
        "aten::ctc_loss",       "aten::_ctc_loss",      "aten::_sobol_engine_scramble_",
        "aten::_compute_linear_combination", "aten::linalg_eigvals", "aten::_linalg_eigvals", "mkldnn::data_ptr"};
    static const std::unordered_set<std::string> checkedNorms = {"aten::batch_norm", "aten::_batch_norm_impl_index"};
    static const std::unordered_set<std::string> checkedFused = {"aten::_fused_rms_norm", "aten::_fused_sdp_choice",
                                                                 "aten::_fused_dropout"};
    if (helpers.count(op) || op.rfind("inductor::", 0) == 0) return true;
    if (op.rfind("aten::", 0) != 0) return false;
    if (op.find("_backward") != std::string::npos || op.find("fused_moving_avg_obs") != std::string::npos) return true;
    if (op.rfind("aten::_fused_", 0) == 0 && !checkedFused.count(op)) return true;
    if (op.rfind("aten::_scaled_dot_product_", 0) == 0) return true; // the kernels behind checkedAttention
    return op.find("batch_norm") != std::string::npos && !checkedNorms.count(op);
}

// The ops a client's code may not call, and why. TorchScript's torch.from_file maps a file by name into a
// tensor, and writes the tensor's changes back with shared=True, and torch.save writes any file: a script or
// model that called them read and wrote files as the server's user (measured: a script answered /etc/passwd,
// another wrote a file), past the client's ACL. Sparse tensors trust their indices: to_dense of one whose
// index a client gave (through a constructor, or changed in place through _indices()) wrote a float past
// its buffer, into Redis' heap, or crashed Redis (measured); every op on sparse tensors is refused, with
// their accessors, the "unsafe" ops (but chunks and splits) and index_put's implementation, which check
// no bounds either.
const char *refusedOp(const torch::jit::Node *n) {
    static const std::unordered_set<std::string> files = {"aten::from_file", "aten::save"};
    // The index conversions check none of their indices: a [0, K] input made one write K elements past its output.
    static const std::unordered_set<std::string> memory = {
        "aten::_index_put_impl_", "aten::_indices",     "aten::indices",     "aten::_values",
        "aten::crow_indices",     "aten::col_indices",  "aten::ccol_indices", "aten::row_indices",
        "aten::_convert_indices_from_coo_to_csr", "aten::_convert_indices_from_csr_to_coo"};
    // Chunks and splits without view tracking: their bounds are the tensor's own (traced LSTM and GRU
    // cells call unsafe_chunk).
    static const std::unordered_set<std::string> safeUnsafe = {"aten::unsafe_chunk", "aten::unsafe_split",
                                                               "aten::unsafe_split_with_sizes"};
    const std::string op = n->kind().toQualString();
    if (files.count(op)) return "reaches files outside the model";
    if (memory.count(op) || op.find("sparse") != std::string::npos ||
        (op.find("unsafe") != std::string::npos && !safeUnsafe.count(op)))
        return "writes memory outside its tensors";
    if (trustsItsArguments(op)) return "trusts its indices and sizes to stay within its tensors";
    return nullptr;
}

// forEachNode calls f on each node of block, of its nested blocks (if, loop) and of the graphs its nodes hold
// (a forked function's, fork's Subgraph attribute).
void forEachNode(torch::jit::Block *block, const std::function<void(torch::jit::Node *)> &f) {
    for (torch::jit::Node *n : block->nodes()) {
        f(n);
        for (torch::jit::Block *b : n->blocks()) forEachNode(b, f);
        for (const torch::jit::Symbol name : n->attributeNames()) {
            if (n->kindOf(name) == torch::jit::AttributeKind::g) forEachNode(n->g(name)->block(), f);
            if (n->kindOf(name) == torch::jit::AttributeKind::gs) {
                for (const auto &g : n->gs(name)) forEachNode(g->block(), f);
            }
        }
    }
}

// forEachNodeOf calls f on each node of every function of a compilation unit: a script's, or a model's (its
// classes' methods, submodules' included).
void forEachNodeOf(const torch::jit::CompilationUnit &cu, const std::function<void(torch::jit::Node *)> &f) {
    for (torch::jit::Function *fn : cu.get_functions()) {
        if (fn->isGraphFunction()) forEachNode(torch::jit::toGraphFunction(*fn).graph()->block(), f);
    }
}

// checkAttention makes every function of cu (a script's, or a loaded model's, before its first run) call
// checkedAttention for scaled_dot_product_attention; what Redis loads itself too, since it is checked as it
// runs. The calls are found first, then replaced, so that no node is destroyed under the walk.
void checkAttention(const torch::jit::CompilationUnit &cu) {
    std::vector<torch::jit::Node *> calls;
    forEachNodeOf(cu, [&calls](torch::jit::Node *n) {
        if (n->kind() == kAttention) calls.push_back(n);
    });
    for (torch::jit::Node *n : calls) {
        n->replaceWithNewSymbol(kCheckedAttention);
        n->destroy();
    }
}

// refuseOps throws for a node of refusedOp in a client's script or model. What Redis loads itself is not
// checked: a model stored before keeps its RDB file loading.
void refuseOps(const torch::jit::CompilationUnit &cu, const std::string &what) {
    forEachNodeOf(cu, [&what](const torch::jit::Node *n) {
        if (const char *why = refusedOp(n)) {
            std::string op = n->kind().toUnqualString();
            throw std::runtime_error("ERR TORCH " + what + " uses torch." + op + ", which " + why +
                                     ": it cannot be stored");
        }
    });
}

bool holdsTensors(const c10::TypePtr &t) {
    if (t->kind() == c10::TypeKind::TensorType) return true;
    for (const c10::TypePtr &c : t->containedTypes()) {
        if (holdsTensors(c)) return true;
    }
    return false;
}

// isNoneOrFalse reports whether v is a constant of the graph that is None, or false.
bool isNoneOrFalse(const torch::jit::Value *v) {
    if (v->type()->kind() == c10::TypeKind::NoneType) return true;
    std::optional<c10::IValue> c = torch::jit::toIValue(v);
    return c.has_value() && c->isBool() && !c->toBool();
}

// updatesRunningStats reports whether n is a batch or instance norm that may update the running statistics
// it is given (when training, or using the input's statistics): those ops write running_mean and running_var
// without saying so in their schemas, and a model or script given them as inputs changed the stored tensors.
bool updatesRunningStats(const torch::jit::Node *n, const c10::FunctionSchema &schema) {
    const std::string op = n->kind().toQualString();
    if (op.find("batch_norm") == std::string::npos && op.find("instance_norm") == std::string::npos) return false;
    bool stats = false, updating = true;
    const std::vector<c10::Argument> &args = schema.arguments();
    for (size_t i = 0; i < args.size() && i < n->inputs().size(); i++) {
        const std::string &name = args[i].name();
        if (name == "running_mean" || name == "running_var") stats = stats || !isNoneOrFalse(n->inputs()[i]);
        if (name == "training" || name == "use_input_stats") updating = !isNoneOrFalse(n->inputs()[i]);
    }
    return stats && updating;
}

// writesTensors reports whether a function of cu calls an op that writes into a tensor it is given
// (add_, copy_, an out= variant, a norm's running statistics): a run's inputs are the stored tensors'
// memory (wrapInput), which such a model or script would change under the key, and under every key COPY
// shares it with, and not on the replicas. Its runs are given copies instead.
bool writesTensors(const torch::jit::CompilationUnit &cu) {
    bool writes = false;
    forEachNodeOf(cu, [&writes](const torch::jit::Node *n) {
        const c10::FunctionSchema *schema = n->maybeSchema();
        if (writes || schema == nullptr) return;
        for (const c10::Argument &a : schema->arguments()) {
            if (a.alias_info() != nullptr && a.alias_info()->isWrite() && holdsTensors(a.type())) writes = true;
        }
        if (updatesRunningStats(n, *schema)) writes = true;
    });
    return writes;
}

std::vector<std::string> strings(const char *data, const size_t *lens, int n) {
    std::vector<std::string> v;
    v.reserve(n > 0 ? n : 0);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        v.emplace_back(data + off, lens[i]);
        off += lens[i];
    }
    return v;
}

}  // namespace

extern "C" {

int gorai_torch_abi(void) { return GORAI_TORCH_ABI; }

const char *gorai_torch_version(void) { return TORCH_VERSION; }

int gorai_torch_cuda_available(void) {
    try {
        return torch::cuda::is_available() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

void gorai_torch_free_string(char *s) { std::free(s); }

int gorai_torch_set_threads(int inter_op, int intra_op, char **err) {
    // RedisAI's texts (libtorch_c/torch_c.cpp); libtorch's own say the same less plainly.
    if (inter_op > 0) {
        try {
            if (at::get_num_interop_threads() != static_cast<size_t>(inter_op)) at::set_num_interop_threads(inter_op);
        } catch (...) {
            fail(err, "Cannot set number of inter-op threads after parallel work has started");
            return -1;
        }
    }
    if (intra_op > 0) {
        try {
            if (at::get_num_threads() != intra_op) at::set_num_threads(intra_op);
        } catch (...) {
            fail(err, "Cannot set number of intra-op threads after parallel work has started");
            return -1;
        }
    }
    return 0;
}

void *gorai_torch_model_load(const void *blob, size_t len, int gpu, int device_id, char **err) {
    try {
        registerRedisOps();
        // As RedisAI: load on the CPU (a blob that is no model fails first), then check for CUDA and move.
        // Without the archive's debug files (.debug_pkl: the source ranges of the Python that made the
        // model), which only lengthen the tracebacks that message() drops: they cost load time, and a
        // damaged one once sent libtorch into an endless loop.
        std::istringstream in(std::string(static_cast<const char *>(blob), len), std::ios_base::binary);
        torch::jit::Module module = torch::jit::load(in, torch::kCPU, /*load_debug_files=*/false);
        if (gpu && !torch::cuda::is_available()) {
            throw std::runtime_error("GPU requested but Torch couldn't find CUDA");
        }
        torch::Device device = gpu ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device_id))
                                   : torch::Device(torch::kCPU);
        if (gpu) module.to(device);
        auto m = std::make_unique<Model>(Model{std::move(module), device, gpu != 0, {}, 0, false});
        checkAttention(*m->module._ivalue()->compilation_unit());
        m->writes = writesTensors(*m->module._ivalue()->compilation_unit());

        torch::jit::Method forward = m->module.get_method(kForward);
        const c10::FunctionSchema &schema = forward.function().getSchema();
        const auto &args = schema.arguments();
        for (size_t i = 1; i < args.size(); i++) m->inputs.push_back(args[i].name());
        for (const auto &ret : schema.returns()) {
            int n = tensorCount(ret);
            if (n < 0) {
                m->noutputs = -1;
                break;
            }
            m->noutputs += n;
        }
        if (!m->optimize) {
            // The plan does not depend on the inputs when the optimizer is off: build it now. A failure
            // only means the first run builds it.
            try {
                torch::jit::GraphOptimizerEnabledGuard opt(false);
                torch::jit::Stack none;
                forward.get_executor().getPlanFor(none, c10::nullopt);
            } catch (...) {
            }
        }
        return m.release();
    } catch (const std::exception &e) {
        fail(err, message(e));
    } catch (...) {
        fail(err, "unknown error loading the TorchScript model");
    }
    return nullptr;
}

int gorai_torch_model_num_inputs(void *model) { return static_cast<int>(static_cast<Model *>(model)->inputs.size()); }

const char *gorai_torch_model_input_name(void *model, int i) {
    Model *m = static_cast<Model *>(model);
    if (i < 0 || static_cast<size_t>(i) >= m->inputs.size()) return nullptr;
    return m->inputs[i].c_str();
}

int gorai_torch_model_num_outputs(void *model) { return static_cast<Model *>(model)->noutputs; }

int gorai_torch_model_run(void *model, int ninputs, const gorai_torch_tensor *inputs, int noutputs,
                          gorai_torch_alloc_fn alloc, void *ctx, char **err) {
    Model *m = static_cast<Model *>(model);
    try {
        c10::InferenceMode inference;
        torch::jit::GraphOptimizerEnabledGuard opt(m->optimize);

        std::vector<c10::IValue> stack;
        stack.reserve(ninputs);
        for (int i = 0; i < ninputs; i++) stack.emplace_back(wrapInput(inputs[i], m->device, m->writes));
        c10::IValue result = m->module.forward(std::move(stack));

        std::vector<at::Tensor> outs;
        flatten(result, kForward, true, outs);
        copyOutputs(outs, noutputs, kForward, alloc, ctx);
        return noutputs;
    } catch (const std::exception &e) {
        fail(err, message(e));
    } catch (...) {
        fail(err, "unknown error running the TorchScript model");
    }
    return -1;
}

int gorai_torch_model_check_files(void *model, char **err) {
    try {
        refuseOps(*static_cast<Model *>(model)->module._ivalue()->compilation_unit(), "model");
        return 0;
    } catch (const std::exception &e) {
        fail(err, message(e));
    }
    return -1;
}

void gorai_torch_model_free(void *model) {
    try {
        delete static_cast<Model *>(model);
    } catch (...) {
    }
}

void *gorai_torch_script_compile(const char *source, size_t len, int gpu, int device_id, const char *entry_data,
                                 const size_t *entry_lens, int nentry, char **err) {
    try {
        registerRedisOps();
        auto cu = std::make_shared<torch::jit::CompilationUnit>();
        cu->define(c10::nullopt, dedent(std::string(source != nullptr ? source : "", len)),
                   std::make_shared<RedisResolver>(), nullptr);
        if (gpu && !torch::cuda::is_available()) {
            throw std::runtime_error("GPU requested but Torch couldn't find CUDA");
        }
        torch::Device device = gpu ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device_id))
                                   : torch::Device(torch::kCPU);
        auto s = std::make_unique<Script>(Script{std::move(cu), device, gpu != 0, {}, false});
        checkAttention(*s->cu);
        s->writes = writesTensors(*s->cu);
        for (const std::string &fn : strings(entry_data, entry_lens, nentry)) {
            torch::jit::Function *f = findFunction(*s, fn);
            if (f == nullptr) throw std::runtime_error("Function " + fn + " does not exist in the given script.");
            const auto &args = f->getSchema().arguments();
            if (args.size() != 3) {
                throw std::runtime_error("Wrong number of inputs in function " + fn + ". Expected 3 but was " +
                                         std::to_string(args.size()));
            }
            if (!isListOf(args[0].type(), c10::TypeKind::TensorType) ||
                !isListOf(args[1].type(), c10::TypeKind::StringType) ||
                !isListOf(args[2].type(), c10::TypeKind::StringType)) {
                throw std::runtime_error("Wrong inputs type in function " + fn +
                                         ". Expected signature similar to: def " + fn +
                                         "(tensors: List[Tensor], keys: List[str], args: List[str])");
            }
            s->entryPoints.insert(fn);
        }
        if (!s->optimize) {
            // As for models: build each function's unoptimized plan now. A failure only means the first run
            // builds it.
            torch::jit::GraphOptimizerEnabledGuard opt(false);
            for (torch::jit::Function *f : s->cu->get_functions()) {
                try {
                    torch::jit::Stack none;
                    torch::jit::toGraphFunction(*f).get_executor().getPlanFor(none, c10::nullopt);
                } catch (...) {
                }
            }
        }
        return s.release();
    } catch (const std::exception &e) {
        fail(err, message(e));
    } catch (...) {
        fail(err, "unknown error compiling the TorchScript script");
    }
    return nullptr;
}

int gorai_torch_script_run(void *script, const char *fn, size_t fnlen, int ninputs, const gorai_torch_tensor *inputs,
                           const char *key_data, const size_t *key_lens, int nkeys, const char *arg_data,
                           const size_t *arg_lens, int nargs, int noutputs, gorai_torch_alloc_fn alloc, void *ctx,
                           char **err) {
    Script *s = static_cast<Script *>(script);
    try {
        std::string name(fn != nullptr ? fn : "", fnlen);
        c10::InferenceMode inference;
        torch::jit::GraphOptimizerEnabledGuard opt(s->optimize);

        torch::jit::Function *f = findFunction(*s, name);
        torch::jit::Stack stack;
        if (s->entryPoints.count(name) != 0 && f != nullptr) {
            std::vector<at::Tensor> tensors;
            tensors.reserve(ninputs);
            for (int i = 0; i < ninputs; i++) tensors.push_back(wrapInput(inputs[i], s->device, s->writes));
            stack.emplace_back(std::move(tensors));
            stack.emplace_back(strings(key_data, key_lens, nkeys));
            stack.emplace_back(strings(arg_data, arg_lens, nargs));
        } else {
            // RedisAI's legacy calling, for scripts stored by AI.SCRIPTSET and functions that are no entry point.
            if (f == nullptr) throw std::runtime_error("Function does not exist: " + name);
            const auto &params = f->getSchema().arguments();
            if (static_cast<int>(params.size()) > ninputs) {
                throw std::runtime_error("Wrong number of inputs provided to function: " + name);
            }
            for (size_t i = 0; i < params.size(); i++) {
                const c10::TypePtr &t = params[i].type();
                if (t->kind() == c10::TypeKind::TensorType) {
                    stack.emplace_back(wrapInput(inputs[i], s->device, s->writes));
                } else if (isListOf(t, c10::TypeKind::TensorType) && i + 1 == params.size()) {
                    std::vector<at::Tensor> rest;
                    for (int j = static_cast<int>(i); j < ninputs; j++) {
                        rest.push_back(wrapInput(inputs[j], s->device, s->writes));
                    }
                    stack.emplace_back(std::move(rest));
                } else {
                    throw std::runtime_error("Unsupported input type in function definition: " + name);
                }
            }
        }
        f->getSchema().checkAndNormalizeInputs(stack, {});
        f->run(stack);
        if (noutputs == 0) return 0;
        std::vector<at::Tensor> outs;
        for (const c10::IValue &v : stack) flatten(v, name, false, outs);
        copyOutputs(outs, noutputs, name, alloc, ctx);
        return noutputs;
    } catch (const std::exception &e) {
        fail(err, message(e));
    } catch (...) {
        fail(err, "unknown error running the TorchScript script");
    }
    return -1;
}

int gorai_torch_script_check_files(void *script, char **err) {
    try {
        refuseOps(*static_cast<Script *>(script)->cu, "script");
        return 0;
    } catch (const std::exception &e) {
        fail(err, message(e));
    }
    return -1;
}

void gorai_torch_script_free(void *script) {
    try {
        delete static_cast<Script *>(script);
    } catch (...) {
    }
}

int gorai_torch_warm_up(char **err) {
    try {
        torch::jit::Module module("__torch__.GoraiWarmUp");
        module.register_parameter("weight", torch::ones({2, 2}), false);
        module.define("def forward(self, x: Tensor) -> Tensor:\n    return torch.relu(torch.linear(x, self.weight)) + 1\n");
        std::ostringstream archive(std::ios_base::binary);
        module.save(archive);
        const std::string blob = archive.str();
        void *model = gorai_torch_model_load(blob.data(), blob.size(), 0, -1, err);
        if (model == nullptr) return -1;
        gorai_torch_model_free(model);
        static const char source[] = "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] + 1\n";
        const size_t entry_len = 1;
        void *script = gorai_torch_script_compile(source, sizeof source - 1, 0, -1, "f", &entry_len, 1, err);
        if (script == nullptr) return -1;
        gorai_torch_script_free(script);
        return 0;
    } catch (const std::exception &e) {
        fail(err, message(e));
    } catch (...) {
        fail(err, "unknown error making the warm-up model");
    }
    return -1;
}

void gorai_torch_set_callbacks(gorai_torch_execute_fn execute, gorai_torch_model_execute_fn model_execute,
                               gorai_torch_release_fn release) {
    executeFn.store(execute);
    modelExecuteFn.store(model_execute);
    releaseFn.store(release);
}

}  // extern "C"
