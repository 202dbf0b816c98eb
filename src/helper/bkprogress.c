/*
 * bkprogress.c — a restore's progress from the bytes written into its
 * staging folder (bkprogress.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bkprogress.h"

static int64_t
file_data(int fd, int64_t size)
{
	int64_t off = 0, data = 0;

	while (off < size) {
		off_t d = lseek(fd, (off_t)off, SEEK_DATA), h;

		if (d < 0)
			break; /* ENXIO: no data past off */
		if ((h = lseek(fd, d, SEEK_HOLE)) < 0)
			h = (off_t)size;
		if (h > size)
			h = (off_t)size;
		data += (int64_t)(h - d);
		off = (int64_t)h;
	}
	return data;
}

static int64_t
walk(int dir, int depth)
{
	int dfd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	int64_t sum = 0;

	if (dfd < 0)
		return 0;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int fd;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			if ((fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) >= 0) {
				sum += file_data(fd, (int64_t)st.st_size);
				close(fd);
			}
		} else if (S_ISDIR(st.st_mode) && depth < 64) {
			if ((fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
				sum += walk(fd, depth + 1);
				close(fd);
			}
		}
	}
	closedir(d);
	return sum;
}

int64_t
ap_bk_data_bytes(int dir)
{
	return walk(dir, 0);
}

struct ap_bk_watch {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct ap_job_ctx *job;
	int dirfd, lo, hi;
	int64_t total;
};

static void *
run(void *p)
{
	struct ap_bk_watch *w = p;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec ts;
		int64_t done;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->mu);
		done = ap_bk_data_bytes(w->dirfd);
		if (done > w->total)
			done = w->total;
		ap_job_progress(w->job, w->lo + (int)((double)(w->hi - w->lo) * (double)done / (double)w->total));
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct ap_bk_watch *
ap_bk_watch_start(struct ap_job_ctx *job, int dirfd, int64_t total, int lo, int hi)
{
	struct ap_bk_watch *w;

	if (job == NULL || total <= 0 || dirfd < 0 || (w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->job = job;
	w->dirfd = dirfd;
	w->total = total;
	w->lo = lo;
	w->hi = hi;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->th, NULL, run, w) != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return NULL;
	}
	return w;
}

void
ap_bk_watch_stop(struct ap_bk_watch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
