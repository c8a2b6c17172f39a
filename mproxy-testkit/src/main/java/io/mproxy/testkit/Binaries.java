package io.mproxy.testkit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Finds the executables of locally installed servers and tools that fixtures start. */
public final class Binaries {

    private static final List<Path> STANDARD_DIRS = List.of(
            Path.of("/usr/local/sbin"), Path.of("/usr/local/bin"),
            Path.of("/usr/sbin"), Path.of("/usr/bin"), Path.of("/sbin"), Path.of("/bin"));

    private Binaries() {
    }

    /**
     * The first executable called {@code name} on {@code PATH}, then in {@code extraDirs}, then in
     * the standard system directories ({@code /usr/bin} and friends).
     */
    public static Optional<Path> find(String name, Path... extraDirs) {
        List<Path> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isEmpty()) {
                    dirs.add(Path.of(dir));
                }
            }
        }
        dirs.addAll(List.of(extraDirs));
        dirs.addAll(STANDARD_DIRS);
        for (Path dir : dirs) {
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * Like {@link #find}, but a missing binary is an {@link IllegalStateException} whose message
     * is the command that installs it ({@code scripts/test} installs everything the suite needs).
     */
    public static Path require(String name, String debianPackage, Path... extraDirs) {
        return find(name, extraDirs).orElseThrow(() -> new IllegalStateException(
                "'" + name + "' was not found on PATH or in /usr/bin. Install it with:"
                        + " apt-get install -y " + debianPackage
                        + " (or run scripts/test as root, which installs what the tests need)"));
    }
}
