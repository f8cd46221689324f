// Fuzz target: the loader's checks of a plugin's descriptor and capability
// tables (check_plugin_descriptor), without a shared object. The input is
// read as the structures themselves, in this order, short input padded
// with zeros:
//   moolai_plugin_descriptor (104 bytes), then the auth, independence,
//   messaging, storage and observer tables (each sizeof the table), then
//   the strings name, version, description, config_schema, NUL-separated.
// Scalars are taken as they are. A pointer field that is zero stays NULL;
// any other value points to something valid: the string of its field, a
// stub function, the matching table from get_capability. Each structure
// is copied into a heap block of the size it declares (at least its
// struct_size field), so a check that reads past what the plugin declared
// is an ASan report.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "moolai/plugin_api.h"
#include "plugins/plugin_loader.hpp"

namespace {

void stub_function() {}

// The tables get_capability hands out for the input in hand.
const void* g_tables[5] = {};

const void* stub_get_capability(uint64_t capability) {
    for (int bit = 0; bit < 5; ++bit)
        if (capability == (uint64_t{1} << bit)) return g_tables[bit];
    return nullptr;
}

// The next `n` bytes of the input, zero past its end.
struct Reader {
    std::string_view in;
    size_t at = 0;
    std::vector<unsigned char> take(size_t n) {
        std::vector<unsigned char> out(n, 0);
        if (at < in.size()) std::memcpy(out.data(), in.data() + at, std::min(n, in.size() - at));
        at += n;
        return out;
    }
    std::string string() {
        if (at >= in.size()) return {};
        const size_t end = std::min(in.find('\0', at), in.size());
        std::string s(in.substr(at, end - at));
        at = end + 1;
        return s;
    }
};

bool nonzero(const unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != 0) return true;
    return false;
}

template <class T>
void set_pointer(unsigned char* image, size_t offset, T value) {
    if (nonzero(image + offset, sizeof value))
        std::memcpy(image + offset, &value, sizeof value);
    else
        std::memset(image + offset, 0, sizeof value);
}

// A heap copy of a structure image, as long as its struct_size says (at
// least the 4 bytes of struct_size itself, at most the image).
std::unique_ptr<unsigned char[]> place(const std::vector<unsigned char>& image) {
    uint32_t declared = 0;
    std::memcpy(&declared, image.data(), sizeof declared);
    const size_t n = std::max<size_t>(sizeof declared, std::min<size_t>(declared, image.size()));
    std::unique_ptr<unsigned char[]> block(new unsigned char[n]);
    std::memcpy(block.get(), image.data(), n);
    return block;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Reader r{std::string_view(reinterpret_cast<const char*>(data), size)};
    using D = moolai_plugin_descriptor;
    std::vector<unsigned char> d = r.take(sizeof(D));
    const size_t table_sizes[5] = {sizeof(moolai_auth_v1), sizeof(moolai_independence_v1),
                                   sizeof(moolai_messaging_v1), sizeof(moolai_storage_v1),
                                   sizeof(moolai_observer_v1)};
    std::vector<unsigned char> tables[5];
    for (int i = 0; i < 5; ++i) tables[i] = r.take(table_sizes[i]);
    const std::string strings[4] = {r.string(), r.string(), r.string(), r.string()};

    // Tables: every slot after struct_size is a function pointer.
    std::unique_ptr<unsigned char[]> placed[5];
    for (int i = 0; i < 5; ++i) {
        for (size_t off = 8; off + sizeof(void*) <= table_sizes[i]; off += sizeof(void*))
            set_pointer(tables[i].data(), off, &stub_function);
        placed[i] = place(tables[i]);
        g_tables[i] = placed[i].get();
    }
    unsigned char* img = d.data();
    set_pointer(img, offsetof(D, name), strings[0].c_str());
    set_pointer(img, offsetof(D, version), strings[1].c_str());
    set_pointer(img, offsetof(D, description), strings[2].c_str());
    set_pointer(img, offsetof(D, config_schema), strings[3].c_str());
    set_pointer(img, offsetof(D, create), &stub_function);
    set_pointer(img, offsetof(D, start), &stub_function);
    set_pointer(img, offsetof(D, stop), &stub_function);
    set_pointer(img, offsetof(D, destroy), &stub_function);
    set_pointer(img, offsetof(D, get_capability), &stub_get_capability);
    const std::unique_ptr<unsigned char[]> descriptor = place(d);

    try {
        const moolai::host::DescriptorTables t = moolai::host::check_plugin_descriptor(
            "/fuzz/libplugin.so", reinterpret_cast<const D*>(descriptor.get()));
        // Accepted: every declared capability has its table, no other.
        const D* accepted = reinterpret_cast<const D*>(descriptor.get());
        const void* got[5] = {t.auth, t.independence, t.messaging, t.storage, t.observer};
        for (int i = 0; i < 5; ++i) {
            const bool declared = (accepted->capabilities >> i) & 1;
            if ((got[i] != nullptr) != declared || (declared && got[i] != g_tables[i]))
                __builtin_trap();
        }
    } catch (const moolai::host::PluginRefused&) {
        // The documented refusal.
    }
    for (const void*& t : g_tables) t = nullptr;
    return 0;
}
