package dev.procpool.cluster.internal;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

/** Content addressing of class path entries: jars by SHA-256, directories packed into a reproducible jar first. */
final class Jars {
    /** A class path entry ready to ship: its bytes live in {@code file}. */
    record Local(Path file, String sha256, String name, long size) {}

    private record Key(Path path, long size, FileTime modified) {}

    private static final Map<Key, String> HASHES = new ConcurrentHashMap<>();
    private static final long FIXED_TIME = 315532800000L; // 1980-01-01, the earliest a zip entry can say

    private Jars() {}

    /** The caller's class path (this JVM's java.class.path), each entry as a shippable jar. */
    static List<Local> callerClassPath(Path scratch) throws IOException {
        List<Local> jars = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            Path path = Path.of(entry).toAbsolutePath();
            if (Files.isRegularFile(path)) {
                jars.add(new Local(path, sha256(path), path.getFileName().toString(), Files.size(path)));
            } else if (Files.isDirectory(path)) {
                Path packed = pack(path, scratch);
                if (packed != null) {
                    jars.add(new Local(packed, sha256(packed), path.getFileName() + ".jar", Files.size(packed)));
                }
            }
        }
        return jars;
    }

    /** Packs a class directory into a jar whose bytes depend only on the files' names and contents. */
    static Path pack(Path directory, Path scratch) throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(directory)) {
            files = walk.filter(Files::isRegularFile).sorted().toList();
        }
        if (files.isEmpty()) {
            return null;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        try (JarOutputStream jar = new JarOutputStream(bytes)) {
            for (Path file : files) {
                String name = directory.relativize(file).toString().replace(File.separatorChar, '/');
                if (name.equals("META-INF/MANIFEST.MF")) {
                    continue;
                }
                ZipEntry entry = new ZipEntry(name);
                entry.setTime(FIXED_TIME);
                jar.putNextEntry(entry);
                Files.copy(file, jar);
                jar.closeEntry();
            }
        }
        byte[] content = bytes.toByteArray();
        Files.createDirectories(scratch);
        Path packed = scratch.resolve(sha256(content) + ".jar");
        if (!Files.exists(packed)) {
            Path temp = Files.createTempFile(scratch, "pack", ".tmp");
            Files.write(temp, content);
            Files.move(temp, packed, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return packed;
    }

    static String sha256(Path file) throws IOException {
        Key key = new Key(file, Files.size(file), Files.getLastModifiedTime(file));
        String known = HASHES.get(key);
        if (known != null) {
            return known;
        }
        MessageDigest digest = digest();
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        String hash = HexFormat.of().formatHex(digest.digest());
        HASHES.put(key, hash);
        return hash;
    }

    static String sha256(byte[] content) {
        return HexFormat.of().formatHex(digest().digest(content));
    }

    static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new UncheckedIOException(new IOException(e));
        }
    }
}
