#include "featforge/arrow/builder.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <utility>

#include "featforge/arrow/view.h"

namespace featforge::arrow {

namespace {
constexpr size_t kAlignment = 64;  // Arrow recommends 64-byte alignment for SIMD-friendly buffers
// Large outputs are 2 MiB-aligned and advised to use transparent huge pages: faulting in a fresh
// 80 MB result 4 KiB at a time costs more than hashing it (NumPy does the same for big arrays).
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kHugePageThreshold = size_t{4} << 20;

// What an exported ArrowArray keeps alive: the data tree and the pointer arrays the struct exposes.
struct ExportedArrayPrivate {
  std::unique_ptr<ArrayData> data;
  std::vector<const void*> buffer_ptrs;
  std::vector<ArrowArray> child_structs;
  std::vector<ArrowArray*> child_ptrs;
  std::unique_ptr<ArrowArray> dictionary;
};

struct ExportedSchemaPrivate {
  std::string format;
  std::string name;
  std::vector<ArrowSchema> child_structs;
  std::vector<ArrowSchema*> child_ptrs;
  std::unique_ptr<ArrowSchema> dictionary;
};

void release_array(ArrowArray* array) {
  if (array == nullptr || array->release == nullptr) return;
  auto* priv = static_cast<ExportedArrayPrivate*>(array->private_data);
  for (ArrowArray& child : priv->child_structs) {
    if (child.release != nullptr) child.release(&child);
  }
  if (priv->dictionary && priv->dictionary->release) priv->dictionary->release(priv->dictionary.get());
  delete priv;
  array->release = nullptr;
}

void release_schema(ArrowSchema* schema) {
  if (schema == nullptr || schema->release == nullptr) return;
  auto* priv = static_cast<ExportedSchemaPrivate*>(schema->private_data);
  for (ArrowSchema& child : priv->child_structs) {
    if (child.release != nullptr) child.release(&child);
  }
  if (priv->dictionary && priv->dictionary->release) priv->dictionary->release(priv->dictionary.get());
  delete priv;
  schema->release = nullptr;
}

void export_schema_into(const ArrayData& data, ArrowSchema* out) {
  auto priv = std::make_unique<ExportedSchemaPrivate>();
  priv->format = data.format;
  priv->name = data.name;
  priv->child_structs.resize(data.children.size());
  for (size_t i = 0; i < data.children.size(); ++i) {
    export_schema_into(*data.children[i], &priv->child_structs[i]);
    priv->child_ptrs.push_back(&priv->child_structs[i]);
  }
  if (data.dictionary) {
    priv->dictionary = std::make_unique<ArrowSchema>();
    export_schema_into(*data.dictionary, priv->dictionary.get());
  }
  out->format = priv->format.c_str();
  out->name = priv->name.c_str();
  out->metadata = nullptr;
  out->flags = ARROW_FLAG_NULLABLE;
  out->n_children = static_cast<int64_t>(data.children.size());
  out->children = priv->child_ptrs.empty() ? nullptr : priv->child_ptrs.data();
  out->dictionary = priv->dictionary.get();
  out->release = &release_schema;
  out->private_data = priv.release();
}

void export_array_into(std::unique_ptr<ArrayData> data, ArrowArray* out) {
  auto priv = std::make_unique<ExportedArrayPrivate>();
  for (Buffer& b : data->buffers) priv->buffer_ptrs.push_back(b.empty() ? nullptr : b.data());
  priv->child_structs.resize(data->children.size());
  for (size_t i = 0; i < data->children.size(); ++i) {
    export_array_into(std::move(data->children[i]), &priv->child_structs[i]);
    priv->child_ptrs.push_back(&priv->child_structs[i]);
  }
  if (data->dictionary) {
    priv->dictionary = std::make_unique<ArrowArray>();
    export_array_into(std::move(data->dictionary), priv->dictionary.get());
  }
  out->length = data->length;
  out->null_count = data->null_count;
  out->offset = 0;
  out->n_buffers = static_cast<int64_t>(priv->buffer_ptrs.size());
  out->n_children = static_cast<int64_t>(priv->child_ptrs.size());
  out->buffers = priv->buffer_ptrs.empty() ? nullptr : priv->buffer_ptrs.data();
  out->children = priv->child_ptrs.empty() ? nullptr : priv->child_ptrs.data();
  out->dictionary = priv->dictionary.get();
  out->release = &release_array;
  priv->data = std::move(data);
  out->private_data = priv.release();
}

}  // namespace

namespace {

// Recently released large blocks, by exact rounded size. Guarded by a mutex: blocks are released
// by whichever thread drops the last pyarrow reference. Like a caching allocator's decay, a block
// not reused within 30 s is returned to the system at the next cache operation (including any
// result buffer allocation), so a process that stops computing does not keep the memory.
class BlockCache {
 public:
  using Clock = std::chrono::steady_clock;

  BlockCache() : limit_(default_limit()) {
    if (const char* env = std::getenv("FEATFORGE_BUFFER_CACHE_MB")) {
      limit_ = static_cast<size_t>(std::strtoull(env, nullptr, 10)) << 20;
    }
  }

  void* take(size_t capacity) {
    void* found = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t i = blocks_.size(); i-- > 0;) {  // the most recently used first
        if (blocks_[i].capacity == capacity) {
          found = blocks_[i].p;
          blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i));
          bytes_ -= capacity;
          update_expiry();
          break;
        }
      }
    }
    expire();
    return found;
  }
  void give(void* p, size_t capacity) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (capacity <= limit_) {
        blocks_.push_back({p, capacity, Clock::now()});  // newest last; trimming drops the oldest
        bytes_ += capacity;
        update_expiry();
        p = nullptr;
      }
    }
    if (p != nullptr) std::free(p);
    trim(limit(), Clock::time_point::min());
  }
  // Frees the blocks idle for longer than idle_. Lock-free until the oldest block is due, so
  // frequent small allocations do not contend on the mutex.
  void expire() {
    const auto now = Clock::now();
    if (now.time_since_epoch().count() < expires_at_.load(std::memory_order_relaxed)) return;
    Clock::duration idle;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      idle = idle_;
    }
    trim(limit(), now - idle);
  }
  void set_idle(Clock::duration idle) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      idle_ = idle;
      update_expiry();
    }
    expire();
  }
  void set_limit(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_ = bytes;
    }
    trim(bytes, Clock::time_point::min());
  }
  size_t limit() {
    std::lock_guard<std::mutex> lock(mutex_);
    return limit_;
  }
  size_t bytes() { return bytes_.load(); }

 private:
  struct Block {
    void* p;
    size_t capacity;
    Clock::time_point given;
  };

  // 1 GiB, or an eighth of the physical memory when that is less.
  static size_t default_limit() {
    size_t limit = size_t{1} << 30;
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) {
      limit = std::min(limit, static_cast<size_t>(pages) * static_cast<size_t>(page) / 8);
    }
    return limit;
  }

  // Frees the oldest blocks until at most `to` bytes are kept, and every block given before
  // `stale`.
  void trim(size_t to, Clock::time_point stale) {
    std::vector<void*> drop;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (!blocks_.empty() && (bytes_ > to || blocks_.front().given < stale)) {
        drop.push_back(blocks_.front().p);
        bytes_ -= blocks_.front().capacity;
        blocks_.erase(blocks_.begin());
      }
      update_expiry();
    }
    for (void* p : drop) std::free(p);
  }

  // When the oldest block becomes idle for too long (clock ticks; never when empty). Under mutex_.
  void update_expiry() {
    const Clock::rep due = blocks_.empty()
                               ? std::numeric_limits<Clock::rep>::max()
                               : (blocks_.front().given + idle_).time_since_epoch().count();
    expires_at_.store(due, std::memory_order_relaxed);
  }

  std::mutex mutex_;
  std::vector<Block> blocks_;
  std::atomic<size_t> bytes_ = 0;
  size_t limit_;
  Clock::duration idle_ = std::chrono::seconds(30);
  std::atomic<Clock::rep> expires_at_ = std::numeric_limits<Clock::rep>::max();
};

BlockCache& block_cache() {
  // Never destroyed: consumers may release buffers during interpreter shutdown, after static
  // destructors would have run. The OS reclaims the cached blocks at exit.
  static BlockCache* cache = new BlockCache();
  return *cache;
}

}  // namespace

void set_buffer_cache_limit(size_t bytes) { block_cache().set_limit(bytes); }
size_t buffer_cache_limit() noexcept { return block_cache().limit(); }
size_t buffer_cache_bytes() noexcept { return block_cache().bytes(); }
void set_buffer_cache_idle(std::chrono::milliseconds idle) { block_cache().set_idle(idle); }

}  // namespace featforge::arrow

namespace featforge {

void* take_huge_block(size_t bytes) {
  const size_t rounded = (bytes + arrow::kHugePage - 1) / arrow::kHugePage * arrow::kHugePage;
  void* p = arrow::block_cache().take(rounded);
  if (p != nullptr) return p;
  p = std::aligned_alloc(arrow::kHugePage, rounded);
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  (void)madvise(p, rounded, MADV_HUGEPAGE);  // a hint only
#endif
  return p;
}

void give_huge_block(void* p, size_t bytes) noexcept {
  if (p == nullptr) return;
  const size_t rounded = (bytes + arrow::kHugePage - 1) / arrow::kHugePage * arrow::kHugePage;
  arrow::block_cache().give(p, rounded);
}

}  // namespace featforge

namespace featforge::arrow {

void detail::BufferFree::operator()(uint8_t* p) const noexcept {
  if (p == nullptr) return;
  if (capacity >= kHugePageThreshold) {
    block_cache().give(p, capacity);
  } else {
    std::free(p);
  }
}

Buffer::Buffer(size_t size) : size_(size) {
  // Round up so aligned_alloc's size requirement holds and a zero-size buffer is still a real
  // pointer (consumers may not accept NULL for a required buffer).
  const size_t alignment = size >= kHugePageThreshold ? kHugePage : kAlignment;
  size_t rounded = (size + alignment - 1) / alignment * alignment;
  if (rounded == 0) rounded = alignment;
  void* p = nullptr;
  if (alignment == kHugePage) {
    p = block_cache().take(rounded);
  } else {
    block_cache().expire();  // computing small batches after big ones frees the idle blocks
  }
  if (p == nullptr) {
    p = std::aligned_alloc(alignment, rounded);
    if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (alignment == kHugePage) (void)madvise(p, rounded, MADV_HUGEPAGE);  // a hint only
#endif
  }
  data_ = std::unique_ptr<uint8_t, detail::BufferFree>(static_cast<uint8_t*>(p),
                                                      detail::BufferFree{rounded});
}

Buffer Buffer::zeroed(size_t size) {
  Buffer b(size);
  std::memset(b.data(), 0, (size + kAlignment - 1) / kAlignment * kAlignment);
  return b;
}

OwnedArray export_array(std::unique_ptr<ArrayData> data) {
  ArrowSchema schema{};
  export_schema_into(*data, &schema);
  ArrowArray array{};
  export_array_into(std::move(data), &array);
  OwnedArray out;
  out.schema = SchemaOwner(&schema);
  out.array = ArrayOwner(&array);
  return out;
}

namespace {
std::unique_ptr<ArrayData> empty_data(const ArrowSchema& schema) {
  auto data = std::make_unique<ArrayData>();
  data->format = schema.format ? schema.format : "";
  data->name = schema.name ? schema.name : "";
  int n_buffers = 2;
  switch (parse_format(data->format).id) {
    case TypeId::null: n_buffers = 0; break;
    case TypeId::struct_: n_buffers = 1; break;
    case TypeId::string: case TypeId::large_string: case TypeId::binary:
    case TypeId::large_binary: case TypeId::string_view: case TypeId::binary_view:
      n_buffers = 3;  // views: validity, views, variadic sizes (no data buffers)
      break;
    default: break;
  }
  for (int b = 0; b < n_buffers; ++b) {
    // Validity stays absent; every other buffer is a zeroed block, so offsets read [0].
    data->buffers.push_back(b == 0 ? Buffer() : Buffer::zeroed(16));
  }
  for (int64_t c = 0; c < schema.n_children; ++c) {
    data->children.push_back(empty_data(*schema.children[c]));
  }
  if (schema.dictionary) data->dictionary = empty_data(*schema.dictionary);
  return data;
}
}  // namespace

OwnedArray make_empty_array(const ArrowSchema& schema) { return export_array(empty_data(schema)); }

Buffer copy_validity(const uint8_t* bits, int64_t offset, int64_t length) {
  if (bits == nullptr) return {};
  Buffer out = Buffer::zeroed(static_cast<size_t>((length + 7) / 8));
  uint8_t* dst = out.data();
  if ((offset & 7) == 0) {
    std::memcpy(dst, bits + offset / 8, static_cast<size_t>((length + 7) / 8));
    return out;
  }
  for (int64_t i = 0; i < length; ++i) {
    if (get_bit(bits, offset + i)) set_bit(dst, i);
  }
  return out;
}

}  // namespace featforge::arrow
