// SPDX-License-Identifier: GPL-2.0
/*
 * The migration data stream and its data_fd handles.
 *
 * A stream is a sequence of records: a header naming the stream version,
 * the device variant and its configuration, the variant's records, and an end
 * record. Each record is numbered and ends with an XXH3-64 of itself, so a
 * flipped byte, a lost or repeated record and a cut are all caught before
 * anything is loaded. Loading is all or nothing: records go to the variant's
 * staging area while they are written and become the device's state only
 * when RESUMING -> STOP finds the stream whole.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "device/device_priv.h"
#include "vfmig/usdt.h"

#define EMU_MAX_FILES 4096
#define EMU_HASH_SEED 0x76666d6967ull

static struct emu_file *files[EMU_MAX_FILES];
static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;

static int file_register(struct emu_file *file)
{
	int i;

	pthread_mutex_lock(&files_lock);
	for (i = 0; i < EMU_MAX_FILES; i++) {
		if (!files[i]) {
			files[i] = file;
			file->handle = EMU_FD_BASE + i;
			break;
		}
	}
	pthread_mutex_unlock(&files_lock);
	return i < EMU_MAX_FILES ? 0 : -EMFILE;
}

struct emu_file *emu_file_new(struct emu_dev *dev, enum emu_file_kind kind)
{
	struct emu_file *file = calloc(1, sizeof(*file));

	if (!file)
		return NULL;
	file->kind = kind;
	file->dev = dev;
	file->buf_size = EMU_REC_OVERHEAD + dev->ops->max_record;
	if (dev->ops->max_record < sizeof(struct emu_stream_head))
		file->buf_size = EMU_REC_OVERHEAD + sizeof(struct emu_stream_head);
	file->buf = malloc(file->buf_size);
	if (!file->buf || file_register(file)) {
		free(file->buf);
		free(file);
		return NULL;
	}
	emu_dev_get(dev);
	return file;
}

static void file_free(struct emu_file *file)
{
	pthread_mutex_lock(&files_lock);
	files[file->handle - EMU_FD_BASE] = NULL;
	pthread_mutex_unlock(&files_lock);
	emu_dev_put(file->dev);
	free(file->buf);
	free(file);
}

void emu_file_disable(struct emu_file *file)
{
	file->disabled = true;
	file->buf_len = file->buf_pos = 0;
}

/* The device lets go of a stream: it ends, and is freed once the user closed it too. */
void emu_file_drop(struct emu_file *file)
{
	if (!file)
		return;
	emu_file_disable(file);
	if (file->user_closed)
		file_free(file);
}

/* Looks a handle up and locks its device; the file stays alive while it is held. */
static struct emu_file *file_get(int fd)
{
	struct emu_file *file = NULL;

	if (fd < EMU_FD_BASE || fd >= EMU_FD_BASE + EMU_MAX_FILES)
		return NULL;
	pthread_mutex_lock(&files_lock);
	file = files[fd - EMU_FD_BASE];
	if (file && file->user_closed)
		file = NULL;
	if (file)
		emu_dev_get(file->dev);
	pthread_mutex_unlock(&files_lock);
	if (file)
		pthread_mutex_lock(&file->dev->lock);
	return file;
}

static void file_put(struct emu_file *file)
{
	struct emu_dev *dev = file->dev;

	pthread_mutex_unlock(&dev->lock);
	emu_dev_put(dev);
}

/* Frames one record into the file's buffer. */
/*
 * Frames one record to be read out. A payload that cannot change before it
 * is read (the device is stopped) is read from where it lies; otherwise it
 * is snapshotted first, since a running device may rewrite it mid-read.
 */
static void frame_record(struct emu_file *file, const struct emu_rec *rec, bool stable)
{
	struct emu_rec_hdr hdr = {
		.magic = EMU_REC_MAGIC,
		.type = rec->type,
		.seq = file->seq++,
		.len = rec->len,
		.arg = rec->arg,
	};
	XXH3_state_t st;
	uint64_t hash;

	memcpy(file->head, &hdr, sizeof(hdr));
	file->payload = rec->payload;
	if (!stable) {
		memcpy(file->buf, rec->payload, rec->len);
		file->payload = file->buf;
	}
	XXH3_INITSTATE(&st); /* a seeded reset reads the state first */
	XXH3_64bits_reset_withSeed(&st, EMU_HASH_SEED);
	XXH3_64bits_update(&st, file->head, sizeof(hdr));
	XXH3_64bits_update(&st, file->payload, rec->len);
	hash = XXH3_64bits_digest(&st);
	memcpy(file->tail, &hash, sizeof(hash));
	file->buf_len = EMU_REC_OVERHEAD + rec->len;
	file->buf_pos = 0;
	file->total += file->buf_len;
}

static void fill_head(struct emu_dev *dev, struct emu_stream_head *head)
{
	memset(head, 0, sizeof(*head));
	head->magic = EMU_STREAM_MAGIC;
	head->major = EMU_STREAM_MAJOR;
	head->minor = EMU_STREAM_MINOR;
	head->variant_id = dev->ops->id;
	head->variant_version = dev->ops->version;
	head->config_id = dev->ops->config_id(dev);
}

static bool final_phase(struct emu_dev *dev)
{
	return dev->state == VFIO_DEVICE_STATE_STOP_COPY;
}

/* Produces the next record; 0 when none is due now (PRE_COPY) or ever (EOF). */
static int next_record(struct emu_file *file)
{
	struct emu_dev *dev = file->dev;
	struct emu_stream_head head;
	struct emu_stream_end end;
	uint64_t initial0, initial, dirty;
	struct emu_rec rec;
	bool stable = false;

	dev->ops->save_pending(dev, &initial0, &dirty);
	file->buf_dirty = false;
	if (!file->head_sent) {
		fill_head(dev, &head);
		rec = (struct emu_rec){EMU_REC_HEAD, 0, &head, sizeof(head)};
		file->head_sent = true;
	} else if (dev->ops->save_next(dev, final_phase(dev), &rec) == 1) {
		/* PRECOPY_INFO must count a record being read out in the class it came from */
		dev->ops->save_pending(dev, &initial, &dirty);
		file->buf_dirty = initial == initial0;
		stable = final_phase(dev);
	} else if (final_phase(dev) && !file->end_sent) {
		end.stream_bytes = file->total;
		rec = (struct emu_rec){EMU_REC_END, 0, &end, sizeof(end)};
		file->end_sent = true;
	} else {
		return 0;
	}
	frame_record(file, &rec, stable);
	return 1;
}

/* Where the byte at pos of the framed record is, and how many follow it in that piece. */
static const uint8_t *piece(const struct emu_file *file, size_t pos, size_t *n)
{
	size_t len = file->buf_len - EMU_REC_OVERHEAD, h = sizeof(struct emu_rec_hdr);

	if (pos < h) {
		*n = h - pos;
		return file->head + pos;
	}
	if (pos < h + len) {
		*n = h + len - pos;
		return file->payload + pos - h;
	}
	*n = file->buf_len - pos;
	return file->tail + pos - h - len;
}

ssize_t emu_file_read_locked(struct emu_file *file, void *buf, size_t len)
{
	size_t done = 0;

	if (file->disabled)
		return -ENODEV;
	if (file->kind != EMU_FILE_SAVE)
		return -EBADF;
	while (done < len) {
		size_t n;

		const uint8_t *src;

		if (file->buf_pos == file->buf_len && !next_record(file))
			break;
		src = piece(file, file->buf_pos, &n);
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, src, n);
		file->buf_pos += n;
		done += n;
	}
	/* In PRE_COPY an empty read is a temporary end: the uAPI asks for ENOMSG. */
	if (!done && len && !final_phase(file->dev))
		return -ENOMSG;
	return done;
}

/* Variant bytes still to read in PRE_COPY, as VFIO_MIG_GET_PRECOPY_INFO reports them. */
int emu_file_pending(struct emu_file *file, uint64_t *initial, uint64_t *dirty)
{
	uint64_t unread = file->buf_len - file->buf_pos;

	file->dev->ops->save_pending(file->dev, initial, dirty);
	if (!file->head_sent)
		*initial += EMU_REC_OVERHEAD + sizeof(struct emu_stream_head);
	if (file->buf_dirty)
		*dirty += unread;
	else
		*initial += unread;
	return 0;
}

/* MIG_DATA_SIZE: what STOP_COPY would still produce, framing included. */
uint64_t emu_stream_stop_copy_size(struct emu_dev *dev)
{
	struct emu_file *file = dev->save;
	uint64_t bytes = dev->ops->stop_copy_size(dev);

	if (!file || !file->end_sent)
		bytes += EMU_REC_OVERHEAD + sizeof(struct emu_stream_end);
	if (!file || !file->head_sent)
		bytes += EMU_REC_OVERHEAD + sizeof(struct emu_stream_head);
	if (file)
		bytes += file->buf_len - file->buf_pos;
	return bytes;
}

static int check_head(struct emu_dev *dev, const struct emu_rec_hdr *hdr, const void *payload)
{
	struct emu_stream_head want, got;

	if (hdr->type != EMU_REC_HEAD || hdr->len != sizeof(got))
		return emu_dev_fail(dev, EINVAL, "stream does not start with a vfmig header");
	memcpy(&got, payload, sizeof(got));
	fill_head(dev, &want);
	if (got.magic != want.magic)
		return emu_dev_fail(dev, EINVAL, "stream header magic is not vfmig's");
	if (got.major != want.major)
		return emu_dev_fail(dev, EINVAL, "stream version %u.%u, this device reads %u.x",
				    got.major, got.minor, want.major);
	if (got.variant_id != want.variant_id || got.variant_version != want.variant_version)
		return emu_dev_fail(dev, EINVAL,
				    "stream is from device variant %u v%u, this is %s (%u v%u)",
				    got.variant_id, got.variant_version, dev->ops->name,
				    want.variant_id, want.variant_version);
	if (got.config_id != want.config_id)
		return emu_dev_fail(
			dev, EINVAL,
			"stream is from a %s of another configuration (%#llx, here %#llx)",
			dev->ops->name, (unsigned long long)got.config_id,
			(unsigned long long)want.config_id);
	return 0;
}

/* Checks one whole record (at rec; before = stream bytes ahead of it) and hands it on. */
static int take_record(struct emu_file *file, const struct emu_rec_hdr *hdr, const uint8_t *rec,
		       uint64_t before)
{
	struct emu_dev *dev = file->dev;
	const uint8_t *payload = rec + sizeof(*hdr);
	struct emu_stream_end end;
	uint64_t hash, want;

	memcpy(&hash, payload + hdr->len, sizeof(hash));
	want = XXH3_64bits_withSeed(rec, sizeof(*hdr) + hdr->len, EMU_HASH_SEED);
	if (hash != want)
		return emu_dev_fail(dev, EINVAL, "stream record %u (type %u) fails its checksum",
				    hdr->seq, hdr->type);
	if (hdr->seq == 0)
		return check_head(dev, hdr, payload);
	if (hdr->type == EMU_REC_HEAD)
		return emu_dev_fail(dev, EINVAL, "stream record %u is a second header", hdr->seq);
	if (hdr->type == EMU_REC_END) {
		memcpy(&end, payload, sizeof(end));
		if (hdr->len != sizeof(end) || end.stream_bytes != before)
			return emu_dev_fail(dev, EINVAL, "stream end record does not match");
		file->seen_end = true;
		return 0;
	}
	return dev->ops->load_record(dev,
				     &(struct emu_rec){hdr->type, hdr->arg, payload, hdr->len});
}

static int check_rec_hdr(struct emu_file *file, const struct emu_rec_hdr *hdr)
{
	struct emu_dev *dev = file->dev;

	if (file->seen_end)
		return emu_dev_fail(dev, EINVAL, "stream continues after its end record");
	if (hdr->magic != EMU_REC_MAGIC || hdr->flags)
		return emu_dev_fail(dev, EINVAL, "stream record %u has a bad header", file->seq);
	if (hdr->seq != file->seq)
		return emu_dev_fail(dev, EINVAL, "stream record %u arrived where %u was due",
				    hdr->seq, file->seq);
	if (hdr->len > file->buf_size - EMU_REC_OVERHEAD)
		return emu_dev_fail(dev, EINVAL, "stream record %u claims %u bytes (at most %u)",
				    hdr->seq, hdr->len, dev->ops->max_record);
	return 0;
}

/* A whole record at the start of src, with no partial one pending: taken where it lies. */
static ssize_t take_in_place(struct emu_file *file, const uint8_t *src, size_t len)
{
	struct emu_rec_hdr hdr;
	size_t whole;
	int ret;

	if (file->buf_len || len < sizeof(hdr))
		return 0;
	memcpy(&hdr, src, sizeof(hdr));
	ret = check_rec_hdr(file, &hdr);
	if (ret)
		return ret;
	whole = sizeof(hdr) + hdr.len + sizeof(uint64_t);
	if (len < whole)
		return 0;
	ret = take_record(file, &hdr, src, file->total);
	if (ret)
		return ret;
	file->total += whole;
	file->seq++;
	return whole;
}

/* Takes every whole record; assembles the bytes of a record cut by the write's end. */
static ssize_t absorb(struct emu_file *file, const uint8_t *src, size_t len)
{
	struct emu_rec_hdr hdr;
	size_t done = 0;
	ssize_t taken;
	int ret;

	while (done < len) {
		size_t want = sizeof(hdr), n;

		taken = take_in_place(file, src + done, len - done);
		if (taken < 0)
			return taken;
		if (taken) {
			done += taken;
			continue;
		}
		if (file->buf_len >= sizeof(hdr)) {
			memcpy(&hdr, file->buf, sizeof(hdr));
			want = sizeof(hdr) + hdr.len + sizeof(uint64_t);
		}
		n = want - file->buf_len;
		if (n > len - done)
			n = len - done;
		memcpy(file->buf + file->buf_len, src + done, n);
		file->buf_len += n;
		done += n;
		file->total += n;
		if (file->buf_len == sizeof(hdr)) {
			memcpy(&hdr, file->buf, sizeof(hdr));
			ret = check_rec_hdr(file, &hdr);
			if (ret)
				return ret;
			continue;
		}
		if (file->buf_len < sizeof(hdr) || file->buf_len < want)
			continue;
		ret = take_record(file, &hdr, file->buf, file->total - file->buf_len);
		if (ret)
			return ret;
		file->seq++;
		file->buf_len = 0;
	}
	return done;
}

ssize_t emu_file_write_locked(struct emu_file *file, const void *buf, size_t len)
{
	ssize_t ret;

	if (file->disabled)
		return -ENODEV;
	if (file->kind != EMU_FILE_RESUME)
		return -EBADF;
	if (file->bad)
		return file->bad;
	ret = absorb(file, buf, len);
	if (ret < 0) {
		file->bad = ret;
		snprintf(file->why, sizeof(file->why), "%s", file->dev->err);
	}
	return ret;
}

/* RESUMING -> STOP: the stream must be whole before anything is loaded. */
int emu_file_finish_resume(struct emu_file *file)
{
	struct emu_dev *dev = file->dev;
	int ret;

	if (file->bad) {
		char why[sizeof(dev->err)];

		/* dev->err is where the reason goes: copy it out first */
		snprintf(why, sizeof(why), "%s", file->why);
		return emu_dev_fail(dev, EINVAL, "resume stream was refused earlier: %s", why);
	}
	if (!file->seen_end || file->buf_len)
		return emu_dev_fail(dev, EINVAL,
				    "resume stream is incomplete: %llu bytes, no end record",
				    (unsigned long long)file->total);
	ret = dev->ops->load_complete(dev);
	if (ret)
		return ret;
	dev->ops->load_commit(dev);
	return 0;
}

ssize_t emu_fd_read(int fd, void *buf, size_t len)
{
	struct emu_file *file = file_get(fd);
	ssize_t ret;

	if (!file) {
		errno = EBADF;
		return -1;
	}
	ret = buf ? emu_file_read_locked(file, buf, len) : -EFAULT;
	EMU_PROBE4(data_read, file->dev->id, fd, len, ret);
	file_put(file);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

ssize_t emu_fd_write(int fd, const void *buf, size_t len)
{
	struct emu_file *file = file_get(fd);
	ssize_t ret;

	if (!file) {
		errno = EBADF;
		return -1;
	}
	ret = buf ? emu_file_write_locked(file, buf, len) : -EFAULT;
	EMU_PROBE4(data_write, file->dev->id, fd, len, ret);
	file_put(file);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

/* The order of checks is mtty_precopy_ioctl()'s. */
static int precopy_info(struct emu_file *file, struct vfio_precopy_info *uinfo)
{
	struct emu_dev *dev = file->dev;
	struct vfio_precopy_info info;
	size_t minsz = sizeof(info);
	uint64_t initial, dirty;
	int ret;

	if (file->kind != EMU_FILE_SAVE)
		return -ENOTTY; /* the resume file has no ioctl */
	if (!uinfo)
		return -EFAULT;
	memcpy(&info, uinfo, minsz);
	if (info.argsz < minsz)
		return -EINVAL;
	if (dev->state != VFIO_DEVICE_STATE_PRE_COPY &&
	    dev->state != VFIO_DEVICE_STATE_PRE_COPY_P2P)
		return -EINVAL;
	if (file->disabled)
		return -ENODEV;
	ret = emu_file_pending(file, &initial, &dirty);
	if (ret)
		return ret;
	info.initial_bytes = initial;
	info.dirty_bytes = dirty;
	memcpy(uinfo, &info, minsz);
	return 0;
}

int emu_fd_ioctl(int fd, unsigned long cmd, void *arg)
{
	struct emu_file *file = file_get(fd);
	struct vfio_precopy_info *info = arg;
	int ret;

	if (!file) {
		errno = EBADF;
		return -1;
	}
	ret = cmd == VFIO_MIG_GET_PRECOPY_INFO ? precopy_info(file, info) : -ENOTTY;
	EMU_PROBE4(precopy_info, file->dev->id, ret ? 0 : info->initial_bytes,
		   ret ? 0 : info->dirty_bytes, ret);
	file_put(file);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}

int emu_fd_close(int fd)
{
	struct emu_file *file = file_get(fd);
	bool free_it;

	if (!file) {
		errno = EBADF;
		return -1;
	}
	/* The device may still hold it (the stream is live): then it goes on without a reader. */
	free_it = file->dev->save != file && file->dev->resume != file;
	file->user_closed = true;
	file_put(file);
	if (free_it)
		file_free(file);
	return 0;
}

short emu_fd_poll(int fd)
{
	struct emu_file *file = file_get(fd);
	uint64_t initial = 0, dirty = 0;
	short ev = 0;

	if (!file)
		return POLLNVAL;
	if (file->disabled)
		ev = POLLERR;
	else if (file->kind == EMU_FILE_RESUME)
		ev = POLLOUT;
	else if (final_phase(file->dev) ||
		 (!emu_file_pending(file, &initial, &dirty) && (initial || dirty)))
		ev = POLLIN;
	file_put(file);
	return ev;
}

int emu_get_precopy_info(int fd, uint64_t *initial_bytes, uint64_t *dirty_bytes)
{
	struct vfio_precopy_info info = {.argsz = sizeof(info)};
	int ret = emu_fd_ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info);

	if (!ret) {
		*initial_bytes = info.initial_bytes;
		*dirty_bytes = info.dirty_bytes;
	}
	return ret;
}
