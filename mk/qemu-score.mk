# make score's real-QEMU half (score/scenarios.qemu, score/qemu.c) runs on the bed and its
# guest; QEMU=0 skips it (score reads QEMU from the environment).
score: $(QEMU_BED) $(QEMU_GUEST)
