// Counts heap allocations in a test executable: every form of the global operator new (plain,
// array, aligned, nothrow) is replaced by one that counts while g_counting is set, over
// malloc / aligned_alloc, and every operator delete frees. Include it in exactly one file of an
// executable (the test's own .cpp). Complete on purpose: a form left out would come from the
// runtime (or AddressSanitizer) and be freed here, which ASan reports as a mismatch.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

namespace alloc_counter {
inline std::atomic<long> g_allocations{0};
inline std::atomic<bool> g_counting{false};

inline void* allocate(std::size_t n) {
    if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
inline void* allocate_aligned(std::size_t n, std::align_val_t al) {
    if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
    const std::size_t a = std::max(sizeof(void*), std::size_t(al));
    return std::aligned_alloc(a, (std::max<std::size_t>(n, 1) + a - 1) / a * a);
}
inline void* or_throw(void* p) {
    if (!p) throw std::bad_alloc();
    return p;
}
}  // namespace alloc_counter

// Counting is per executable: these are the program's global allocation functions.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) { return alloc_counter::or_throw(alloc_counter::allocate(n)); }
void* operator new[](std::size_t n) { return alloc_counter::or_throw(alloc_counter::allocate(n)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return alloc_counter::allocate(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return alloc_counter::allocate(n); }
void* operator new(std::size_t n, std::align_val_t al) { return alloc_counter::or_throw(alloc_counter::allocate_aligned(n, al)); }
void* operator new[](std::size_t n, std::align_val_t al) { return alloc_counter::or_throw(alloc_counter::allocate_aligned(n, al)); }
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return alloc_counter::allocate_aligned(n, al); }
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept { return alloc_counter::allocate_aligned(n, al); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
