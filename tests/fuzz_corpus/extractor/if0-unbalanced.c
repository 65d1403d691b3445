#if 0
void gone(void)
{
	x(
#endif
void kept(void) { y(); }
