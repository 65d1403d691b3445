#include <linux/fs.h>

static void evict(struct inode *inode)
{
	const struct super_operations *op = inode->i_sb->s_op;

	inode_wait_for_writeback(inode);
	if (op->evict_inode)
		op->evict_inode(inode);
	else
		truncate_inode_pages_final(inode->i_mapping);
}

static void iput_final(struct inode *inode)
{
	evict(inode);
}

void iput(struct inode *inode)
{
	if (atomic_dec_and_test(&inode->i_count))
		iput_final(inode);
}

void ihold(struct inode *inode)
{
	atomic_inc(&inode->i_count);
}

struct inode *iget_locked(struct super_block *sb, unsigned long ino)
{
	struct inode *inode = find_inode_fast(sb, ino);

	if (inode && inode_unhashed(inode)) {
		/* An inode whose construction failed: nothing to wait for. */
		// ok: final-put-in-writeback
		iput(inode);
	}
	return inode;
}
