# vfmigtop's figures are pure functions: their unit test links them from the tool's folder.
$(BUILD)/tests/vfmigtop/test_figures: $(BUILD)/user/vfmigtop/figures.o
