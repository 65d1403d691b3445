#include <linux/fs.h>

static void wbfs_drop(struct inode *inode)
{
	// ruleid: final-put-in-writeback
	iput(inode);
}

static void wbfs_iput_workfn(struct work_struct *work)
{
	struct wbfs_iput_work *w = container_of(work, struct wbfs_iput_work, work);

	/* Runs on system_wq, not in writeback: the queued put is the safe pattern. */
	// ok: final-put-in-writeback
	iput(w->inode);
}

static void wbfs_drop_later(struct wbfs_iput_work *w)
{
	INIT_WORK(&w->work, wbfs_iput_workfn);
	queue_work(system_wq, &w->work);
}

static void wbfs_balanced(struct inode *inode)
{
	ihold(inode);
	wbfs_sync_one(inode);
	// ok: final-put-in-writeback
	iput(inode);
}

static void wbfs_close(struct file *file, struct file *other)
{
	/* fput defers __fput to task_work: a registration, not a call. */
	// ok: final-put-in-writeback
	fput(file);
	// ruleid: final-put-in-writeback
	__fput_sync(other);
}

static void wbfs_known(struct inode *inode)
{
	/* putlint: ignore[final-put-in-writeback] the caller holds a reference across writeback */
	iput(inode);
}

static int wbfs_writepages(struct address_space *mapping, struct writeback_control *wbc)
{
	struct inode *inode = mapping->host;

	wbfs_drop(inode);
	wbfs_drop_later(wbfs_work_of(inode));
	wbfs_balanced(inode);
	wbfs_close(wbfs_file_of(inode), wbfs_other_file(inode));
	wbfs_known(inode);
	btrfs_add_delayed_iput(inode);
	wbfs_xattr_drop(inode);
	wbfs_alias_drop(inode);
	wbfs_dentry_drop(wbfs_dentry_of(inode));
	iget_locked(inode->i_sb, 7);
	wbfs_held(inode);
	return 0;
}

void wbfs_not_in_writeback(struct inode *inode)
{
	// ok: final-put-in-writeback
	iput(inode);
}

static const struct address_space_operations wbfs_aops = {
	.writepages = wbfs_writepages,
};

static void wbfs_xattr_drop(struct inode *inode)
{
	struct inode *ea_inode = ext4_xattr_inode_iget(inode, 12);
	struct inode *found;

	/* An extended-attribute inode: never the one under writeback. */
	// ok: final-put-in-writeback
	iput(ea_inode);
	found = ilookup(inode->i_sb, 12);
	/* Even the inode under writeback, looked up again, goes back to the LRU. */
	// ok: final-put-in-writeback
	iput(found);
	found = wbfs_next_dirty(inode);
	/* Anything else may be the inode under writeback. */
	// ruleid: final-put-in-writeback
	iput(found);
}

static void wbfs_alias_drop(struct inode *inode)
{
	struct dentry *alias = d_find_alias(inode);

	/* The caller holds the alias's inode: killing the dentry is not its last iput. */
	// ok: final-put-in-writeback
	dput(alias);
}

static void wbfs_dentry_drop(struct dentry *dentry)
{
	// ruleid: final-put-in-writeback
	dput(dentry);
}

static void wbfs_put_inner(struct inode *inode)
{
	/* wbfs_held holds a reference across this call. */
	// ok: final-put-in-writeback
	iput(inode);
}

static void wbfs_held(struct inode *inode)
{
	ihold(inode);
	wbfs_put_inner(inode);
	iput(inode);
}

static void wbfs_negative_drop(struct dentry *dentry, struct dentry *other, struct inode *inode)
{
	if (d_really_is_positive(dentry)) {
		// ruleid: final-put-in-writeback
		dput(dentry);
		return;
	}
	/* Negative: killing it drops no inode. */
	// ok: final-put-in-writeback
	dput(dentry);
	BUG_ON(d_inode(other));
	d_instantiate(other, inode);
	/* Negative once, but instantiated since. */
	// ruleid: final-put-in-writeback
	dput(other);
}

static void wbfs_lookup_drop(struct dentry *parent, struct dentry *dentry)
{
	struct dentry *alias = d_alloc_parallel(parent, dentry);

	if (!d_in_lookup(alias)) {
		// ruleid: final-put-in-writeback
		dput(alias);
		return;
	}
	d_lookup_done(alias);
	/* Still negative: the lookup never instantiated it. */
	// ok: final-put-in-writeback
	dput(alias);
}

static void wbfs_found_drop(struct inode *inode)
{
	struct dentry *alias = wbfs_any_dentry(inode);

	// ok: final-put-in-writeback
	dput(alias);
}

static void wbfs_found_caller(struct inode *inode)
{
	/* The caller holds the inode across wbfs_found_drop. */
	struct inode *found = igrab(inode);

	wbfs_found_drop(found);
	iput(found);
}

static int wbfs_write_inode(struct inode *inode, struct writeback_control *wbc)
{
	wbfs_negative_drop(wbfs_dentry_of(inode), wbfs_other_dentry(inode), inode);
	wbfs_lookup_drop(wbfs_dentry_of(inode), wbfs_other_dentry(inode));
	wbfs_found_caller(inode);
	return 0;
}

static const struct super_operations wbfs_sops = {
	.write_inode = wbfs_write_inode,
};
