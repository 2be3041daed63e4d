// SPDX-License-Identifier: GPL-2.0
/*
 * vfmig_dmadev: a minimal mdev whose only work is DMA through
 * vfio_pin_pages(), for the vmtest bed. mtty does no DMA, so nothing in the
 * kernel's samples pins; this device pins and unpins guest IOVA ranges on
 * request (a private ioctl on its device fd), so that vfmig's pin probes and
 * type1's pinned-page dirty bitmaps can be checked against pages really
 * pinned. Not for production: one device type, a bounded pin table.
 */
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "vfmig_dmadev.h"

#define DMADEV_MAX_RECORDS 64

/* One vfio_pin_pages() call's pages, let go of by one vfio_unpin_pages(). */
struct dmadev_pin {
	dma_addr_t iova;
	int npage;
	struct page **pages;
};

struct dmadev {
	struct vfio_device vdev;
	struct mutex lock; /* pins */
	struct dmadev_pin pins[DMADEV_MAX_RECORDS];
	unsigned int npins;
};

static struct device *dmadev_parent;
static struct mdev_parent dmadev_mdev_parent;

static bool overlaps(const struct dmadev_pin *p, u64 iova, u64 length)
{
	u64 end = p->iova + (u64)p->npage * PAGE_SIZE;

	return p->iova < iova + length && iova < end;
}

static void dmadev_unpin_range(struct dmadev *d, u64 iova, u64 length)
{
	unsigned int i = 0;

	while (i < d->npins) {
		if (overlaps(&d->pins[i], iova, length)) {
			vfio_unpin_pages(&d->vdev, d->pins[i].iova, d->pins[i].npage);
			kfree(d->pins[i].pages);
			d->pins[i] = d->pins[--d->npins];
		} else {
			i++;
		}
	}
}

static long dmadev_pin(struct dmadev *d, const struct vfmig_dmadev_op *op)
{
	struct dmadev_pin *p = &d->pins[d->npins];
	int ret;

	if (d->npins == DMADEV_MAX_RECORDS)
		return -ENOSPC;
	p->pages = kcalloc(op->npage, sizeof(*p->pages), GFP_KERNEL);
	if (!p->pages)
		return -ENOMEM;
	ret = vfio_pin_pages(&d->vdev, op->iova, op->npage, IOMMU_READ | IOMMU_WRITE, p->pages);
	if (ret <= 0) {
		kfree(p->pages);
		return ret ? ret : -EFAULT;
	}
	p->iova = op->iova;
	p->npage = ret;
	d->npins++;
	return ret;
}

static long dmadev_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	struct dmadev *d = container_of(vdev, struct dmadev, vdev);
	struct vfmig_dmadev_op op;
	long ret;

	if (cmd != VFMIG_DMADEV_PIN && cmd != VFMIG_DMADEV_UNPIN)
		return -ENOTTY;
	if (copy_from_user(&op, (void __user *)arg, sizeof(op)))
		return -EFAULT;
	if (!op.npage || op.npage > VFIO_PIN_PAGES_MAX_ENTRIES || (op.iova & ~PAGE_MASK))
		return -EINVAL;
	mutex_lock(&d->lock);
	if (cmd == VFMIG_DMADEV_PIN) {
		ret = dmadev_pin(d, &op);
	} else {
		dmadev_unpin_range(d, op.iova, (u64)op.npage * PAGE_SIZE);
		ret = 0;
	}
	mutex_unlock(&d->lock);
	return ret;
}

/* The IOMMU backend's order to let go of a range being unmapped. */
static void dmadev_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	struct dmadev *d = container_of(vdev, struct dmadev, vdev);

	mutex_lock(&d->lock);
	dmadev_unpin_range(d, iova, length);
	mutex_unlock(&d->lock);
}

static void dmadev_close(struct vfio_device *vdev)
{
	dmadev_dma_unmap(vdev, 0, U64_MAX);
}

static int dmadev_init(struct vfio_device *vdev)
{
	struct dmadev *d = container_of(vdev, struct dmadev, vdev);

	mutex_init(&d->lock);
	return 0;
}

static const struct vfio_device_ops dmadev_ops = {
	.name = "vfmig-dmadev",
	.init = dmadev_init,
	.ioctl = dmadev_ioctl,
	.dma_unmap = dmadev_dma_unmap,
	.close_device = dmadev_close,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

static int dmadev_probe(struct mdev_device *mdev)
{
	struct dmadev *d = vfio_alloc_device(dmadev, vdev, &mdev->dev, &dmadev_ops);
	int ret;

	if (IS_ERR(d))
		return PTR_ERR(d);
	ret = vfio_register_emulated_iommu_dev(&d->vdev);
	if (ret) {
		vfio_put_device(&d->vdev);
		return ret;
	}
	dev_set_drvdata(&mdev->dev, d);
	return 0;
}

static void dmadev_remove(struct mdev_device *mdev)
{
	struct dmadev *d = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&d->vdev);
	vfio_put_device(&d->vdev);
}

static struct mdev_type dmadev_type = {
	.sysfs_name = "1",
	.pretty_name = "vfmig DMA test device",
};

static struct mdev_type *dmadev_types[] = {&dmadev_type};

static struct mdev_driver dmadev_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver =
		{
			.name = "vfmig_dmadev",
			.owner = THIS_MODULE,
			.mod_name = KBUILD_MODNAME,
		},
	.probe = dmadev_probe,
	.remove = dmadev_remove,
	.max_instances = 4,
};

static int __init dmadev_module_init(void)
{
	int ret = mdev_register_driver(&dmadev_driver);

	if (ret)
		return ret;
	dmadev_parent = root_device_register("vfmig_dmadev");
	if (IS_ERR(dmadev_parent)) {
		ret = PTR_ERR(dmadev_parent);
		goto err_driver;
	}
	ret = mdev_register_parent(&dmadev_mdev_parent, dmadev_parent, &dmadev_driver, dmadev_types,
				   ARRAY_SIZE(dmadev_types));
	if (ret)
		goto err_parent;
	return 0;
err_parent:
	root_device_unregister(dmadev_parent);
err_driver:
	mdev_unregister_driver(&dmadev_driver);
	return ret;
}

static void __exit dmadev_module_exit(void)
{
	mdev_unregister_parent(&dmadev_mdev_parent);
	root_device_unregister(dmadev_parent);
	mdev_unregister_driver(&dmadev_driver);
}

module_init(dmadev_module_init);
module_exit(dmadev_module_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfmig vmtest: an mdev that pins guest pages on request");
