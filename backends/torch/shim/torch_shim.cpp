// torch_shim: gorai's libtorch shim (see torch_shim.h for the API and its rules). Built by
// build/build-torch-shim.sh into build/backends/torch/libgorai_torch.so, which links libtorch; gorai.so
// itself never does, and opens this library with dlopen the first time a TORCH model needs it.

#include "torch_shim.h"

#include <ATen/Parallel.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/version.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

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
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
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

// flatten lists forward's result as RedisAI does: a Tensor, or the Tensors of a Tuple or List.
void flatten(const c10::IValue &v, std::vector<at::Tensor> &out) {
    if (v.isTensor()) {
        out.push_back(v.toTensor());
    } else if (v.isTensorList()) {
        for (const at::Tensor &t : v.toTensorVector()) out.push_back(t);
    } else if (v.isTuple()) {
        for (const auto &e : v.toTupleRef().elements()) {
            if (!e.isTensor()) throw std::runtime_error(std::string("Function returned non-tensor values") + kForward);
            out.push_back(e.toTensor());
        }
    } else if (v.isList()) {
        for (const c10::IValue &e : v.toListRef()) {
            if (!e.isTensor()) throw std::runtime_error(std::string("Function returned non-tensor values") + kForward);
            out.push_back(e.toTensor());
        }
    } else if (!v.isNone()) {
        throw std::runtime_error(std::string("Function returned non-tensor values") + kForward);
    }
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
            if (at::get_num_interop_threads() != inter_op) at::set_num_interop_threads(inter_op);
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
        // As RedisAI: load on the CPU (a blob that is no model fails first), then check for CUDA and move.
        std::istringstream in(std::string(static_cast<const char *>(blob), len), std::ios_base::binary);
        torch::jit::Module module = torch::jit::load(in, torch::kCPU);
        if (gpu && !torch::cuda::is_available()) {
            throw std::runtime_error("GPU requested but Torch couldn't find CUDA");
        }
        torch::Device device = gpu ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device_id))
                                   : torch::Device(torch::kCPU);
        if (gpu) module.to(device);
        auto m = std::make_unique<Model>(Model{std::move(module), device, gpu != 0, {}, 0});

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
        for (int i = 0; i < ninputs; i++) {
            const gorai_torch_tensor &in = inputs[i];
            at::Tensor t = torch::from_blob(in.data, at::IntArrayRef(in.shape, in.ndim),
                                            torch::TensorOptions().dtype(scalarType(in.code, in.bits)));
            stack.emplace_back(m->device.is_cpu() ? t : t.to(m->device));
        }
        c10::IValue result = m->module.forward(std::move(stack));

        std::vector<at::Tensor> outs;
        flatten(result, outs);
        if (static_cast<int>(outs.size()) != noutputs) {
            throw std::runtime_error(std::string("Function returned unexpected number of outputs - ") + kForward);
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
        return noutputs;
    } catch (const std::exception &e) {
        fail(err, message(e));
    } catch (...) {
        fail(err, "unknown error running the TorchScript model");
    }
    return -1;
}

void gorai_torch_model_free(void *model) {
    try {
        delete static_cast<Model *>(model);
    } catch (...) {
    }
}

}  // extern "C"
